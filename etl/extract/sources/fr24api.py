"""The official Flightradar24 API through its SDK, fr24sdk: live flight positions (full) behind the Feed interface.

Field mapping, official API (`client.live.flight_positions.get_full`) -> raw schema (etl.core.columns.FLIGHT_FIELDS):

    fr24_id -> id             lat -> latitude           lon -> longitude        track -> heading
    alt -> altitude (ft)      gspeed -> ground_speed    vspeed -> vertical_speed    squawk -> squawk
    hex -> icao_24bit         type -> aircraft_code     reg -> registration     callsign -> callsign
    flight -> number          orig_iata -> origin_airport_iata                  dest_iata -> destination_airport_iata
    orig_icao -> origin_airport_icao                    dest_icao -> destination_airport_icao
    operating_as -> airline_icao   (the operator, read from the callsign, as the web feed's airline code is)
    timestamp (ISO 8601) -> time (epoch seconds, as the web feed gives it; "" when it does not parse)

Derived, no field of its own in the official API:
    airline_iata: the first two characters of `flight`, the very derivation FlightRadarAPI makes for the web feed.
    on_ground: "1" when alt <= GROUND_MAX_ALT_FT and gspeed <= GROUND_MAX_SPEED_KT, else "0" (see on_ground_flag).

Received but with no raw column, so not kept: painted_as (the livery's airline), eta, source (ADSB, MLAT, ...).
The official API has no bulk airport or airline list (only one paid request per code), so this source's reference
data comes from airportsdata and the project's own airline table.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timezone
from typing import Any

from etl.core.config import FR24API_MAX_LIMIT, JobConfig
from etl.core.errors import AccessRefusedError, SourceUnavailableError
from etl.core.log import route_to_job_log
from etl.extract.feed import BlockedFeedError, Bounds, TransientFeedError

# The on-ground rule, measured on the 19,520 labelled rows of the twelve real web-feed captures in
# ../shared/samples/fr24 (FR24's own on_ground flag as the truth): it agrees on 19,494 rows (99.87 %), never calls
# an airborne track grounded, and misses 26 grounded ones (gliders parked at 101-125 ft, take-off and landing
# rolls above 80 kt). `alt` is the barometric altitude FR24 reports as 0 for most aircraft on the ground.
GROUND_MAX_ALT_FT = 100
GROUND_MAX_SPEED_KT = 80

_SDK_LOGGER = "fr24sdk"


class Fr24ApiError(Exception):
    """An answer of the official API that a retry will not change (400, 401, 402, 403, 404, a malformed body)."""


class Fr24ApiRefusedError(Fr24ApiError, AccessRefusedError):
    """401 or 403: the API refused the token (unknown, expired, or its plan does not cover the endpoint)."""


class ApiToken(str):
    """The token's text, and where it came from (`the secret NAME`, `the environment variable NAME`); never shown."""

    where: str = "the API token"

    def __new__(cls, value: str, where: str) -> ApiToken:
        token = super().__new__(cls, value)
        token.where = where
        return token

    def __repr__(self) -> str:
        return f"ApiToken(<hidden>, from {self.where})"


def on_ground_flag(alt: int | None, gspeed: int | None) -> str:
    """On the ground ("1") when at most GROUND_MAX_ALT_FT ft up and GROUND_MAX_SPEED_KT kt fast; else "0"."""
    if alt is None or gspeed is None:
        return "0"
    return "1" if alt <= GROUND_MAX_ALT_FT and gspeed <= GROUND_MAX_SPEED_KT else "0"


def epoch_text(timestamp: str | None) -> str:
    """ISO 8601 (`2026-11-22T14:00:03Z`) as epoch seconds text; no zone means UTC; "" when it does not parse."""
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return str(int(moment.timestamp()))


def flight_record(position: Any) -> dict[str, str]:
    """One `FlightPositionsFull` as text values keyed by FLIGHT_FIELDS and RAW_AIRPORT_ICAO_COLUMNS ("" if missing)."""
    number = _text(position.flight)
    return {
        "latitude": _text(position.lat),
        "longitude": _text(position.lon),
        "id": _text(position.fr24_id),
        "icao_24bit": _text(position.hex),
        "heading": _text(position.track),
        "altitude": _text(position.alt),
        "ground_speed": _text(position.gspeed),
        "squawk": _text(position.squawk),
        "aircraft_code": _text(position.type),
        "registration": _text(position.reg),
        "time": epoch_text(position.timestamp),
        "origin_airport_iata": _text(position.orig_iata),
        "destination_airport_iata": _text(position.dest_iata),
        "number": number,
        "airline_iata": number[:2],
        "on_ground": on_ground_flag(position.alt, position.gspeed),
        "vertical_speed": _text(position.vspeed),
        "callsign": _text(position.callsign),
        "airline_icao": _text(position.operating_as),
        "origin_airport_icao": _text(position.orig_icao),
        "destination_airport_icao": _text(position.dest_icao),
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _detail(exc: BaseException) -> str:
    """The API's own words for an error (its `details` or `message`), never the request's headers."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        text = body.get("details") or body.get("message") or ""
    else:
        text = str(body or "")
    return " ".join(str(text).split())[:200]


class Fr24ApiFeed:
    """The official API behind the Feed interface: one SDK client per thread, and counts of what it cost.

    `limit` is sent with every request and is this source's tile cap. 5xx answers and network errors raise
    TransientFeedError, 429 its BlockedFeedError (the extractor retries both, the latter after a longer backoff);
    any other error answer raises Fr24ApiError. After a 401 or 403 the token is known bad (403: the plan does not
    cover the endpoint), so later tiles fail at once without another request.
    """

    def __init__(
        self, token: str, *, base_url: str | None = None, limit: int = FR24API_MAX_LIMIT, timeout_s: float = 20.0
    ) -> None:
        if not token:
            raise ValueError("the fr24api source needs a token")
        if not 1 <= limit <= FR24API_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {FR24API_MAX_LIMIT}")
        self._token = token
        self.base_url = base_url
        self.limit = limit
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._refused: str | None = None
        self._token_where = getattr(token, "where", "the API token")  # named in a refusal, the value never
        self.requests = 0
        self.flights_returned = 0
        self.errors_by_status: dict[str, int] = {}
        # The SDK's records go through the job's log (the run's JSON log), never as bare lines on stderr; it logs
        # every request's headers, the bearer token among them, at DEBUG: its logger is kept at INFO or above.
        route_to_job_log(_SDK_LOGGER, logging.INFO)

    def __repr__(self) -> str:  # never the token
        return f"Fr24ApiFeed(base_url={self.base_url!r}, limit={self.limit})"

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from fr24sdk import Client

            client = Client(api_token=self._token, base_url=self.base_url, timeout=self.timeout_s)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _count(self, *, flights: int = 0, status: str | None = None) -> None:
        with self._lock:
            self.requests += 1
            self.flights_returned += flights
            if status is not None:
                self.errors_by_status[status] = self.errors_by_status.get(status, 0) + 1

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        """Flights in `bounds` (at most `limit`) as text; the API takes the box as `north,south,west,east`."""
        from fr24sdk import ApiError, TransportError
        from fr24sdk.models.geographic import Boundary

        if self._refused is not None:  # the token is known bad: no further request is sent
            raise Fr24ApiRefusedError(self._refused)
        boundary = Boundary(north=bounds.north, south=bounds.south, west=bounds.west, east=bounds.east)
        try:
            answer = self._client().live.flight_positions.get_full(bounds=boundary, limit=self.limit)
        except ApiError as exc:
            status = _status(exc)
            self._count(status=str(status))
            message = f"HTTP {status}: {_detail(exc)}"
            if status == 429:  # "slow down": retried after the extractor's longer backoff for blocked answers
                raise BlockedFeedError(message) from None
            if status is not None and status >= 500:
                raise TransientFeedError(message) from None
            if status in (401, 403):
                detail = _detail(exc)
                self._refused = f"the official API refused the token ({status}): check {self._token_where}" + (
                    f" (the API says: {detail})" if detail else ""
                )
                raise Fr24ApiRefusedError(self._refused) from None
            raise Fr24ApiError(message) from None
        except TransportError as exc:
            self._count(status="network")
            raise TransientFeedError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        except ValueError as exc:  # a 200 whose body is not the documented shape (pydantic's ValidationError)
            self._count(status="bad_body")
            raise Fr24ApiError(f"unexpected answer: {str(exc).splitlines()[0][:200]}") from None
        positions = answer.data or []
        self._count(flights=len(positions))
        return [flight_record(p) for p in positions]

    def fetch_airports(self) -> list[dict[str, Any]]:
        """None: the official API lists no airports in bulk; the landing step uses airportsdata instead."""
        return []

    def fetch_airlines(self) -> list[dict[str, Any]]:
        """None: the official API lists no airlines in bulk; the KPIs use the project's airline table."""
        return []

    def usage(self) -> dict[str, Any]:
        """What this run asked of the API, for the manifest: requests sent, flights returned, error answers."""
        with self._lock:
            return {
                "requests": self.requests,
                "flights_returned": self.flights_returned,
                "errors_by_status": dict(sorted(self.errors_by_status.items())),
                "limit": self.limit,
            }

    def close(self) -> None:
        """Close every thread's HTTP client."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def feed(config: JobConfig, now: datetime) -> Fr24ApiFeed:
    """The source's factory (etl.core.source_registry): the official API with the configured token, URL and limit."""
    return Fr24ApiFeed(
        fr24api_token(config),
        base_url=config.fr24api_url,
        limit=config.fr24api_limit,
        timeout_s=config.extract.timeout_s,
    )


def fr24api_token(config: JobConfig, *, secrets_client: Any = None) -> str:
    """The official API's token: from Secrets Manager when fr24api_token_secret is set, else the environment.

    Raises SourceUnavailableError naming the secret or variable (never the value) when there is no token.
    """
    secret_id = config.fr24api_token_secret
    if not secret_id:
        token = os.environ.get(config.fr24api_token_env, "").strip()
        if not token:
            raise SourceUnavailableError(f"source fr24api: environment variable {config.fr24api_token_env} is empty")
        return ApiToken(token, f"the environment variable {config.fr24api_token_env}")
    if secrets_client is None:
        import boto3

        secrets_client = boto3.client("secretsmanager")
    put = f"aws secretsmanager put-secret-value --secret-id {secret_id} --secret-string <token>"
    try:
        answer = secrets_client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # botocore's ClientError carries the code; the message never holds the value
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        if code == "ResourceNotFoundException":
            raise SourceUnavailableError(
                f"source fr24api: the token secret {secret_id} does not exist or has no value yet: {put}"
            ) from None
        raise SourceUnavailableError(f"source fr24api: cannot read the token secret {secret_id}: {code}") from None
    token = (answer.get("SecretString") or "").strip()
    if not token:
        raise SourceUnavailableError(f"source fr24api: the token secret {secret_id} is empty: {put}")
    return ApiToken(token, f"the secret {secret_id}")
