"""The production feed: FlightRadarAPI's feed request, `get_airports()` and `get_airlines()`."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.core.columns import FLIGHT_FIELDS
from etl.extract.feed import BlockedFeedError, Bounds, TransientFeedError

if TYPE_CHECKING:
    from etl.core.config import JobConfig

BLOCKED_STATUSES = (403, 429)  # the source (or Cloudflare in front of it) asks the client to slow down


def _failure_kind(exc: BaseException) -> str:
    """'blocked' (403, 429, a Cloudflare challenge), 'transient' (network, 5xx, Cloudflare 520) or 'fatal'.

    A page answered where JSON was expected (FlightRadarAPI's "Expected JSON response") is what a Cloudflare
    challenge ("Just a moment...") looks like to the client: blocked too, so the circuit breaker counts it.
    """
    from FlightRadarAPI.errors import CloudflareError

    if isinstance(exc, ValueError) and str(exc).startswith("Expected JSON response"):
        return "blocked"

    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status > 0:
        if status in BLOCKED_STATUSES:
            return "blocked"
        return "transient" if status >= 500 else "fatal"
    if isinstance(exc, CloudflareError):
        return "blocked"
    # curl_cffi's connection, timeout and DNS errors subclass OSError.
    return "transient" if isinstance(exc, OSError) else "fatal"


class FlightRadarFeed:
    """FlightRadarAPI behind the Feed interface; one client per thread, since a client holds one HTTP session.

    `feed_url` replaces FR24's feed address (`Core.real_time_flight_tracker_data_url`) for this adapter only: the
    request is the SDK's own (its HTTP client and TLS profile, `Core.json_headers`, its tracker parameters, its
    `Flight` parser), sent to this adapter's address, so two adapters in one process never share a global.
    """

    def __init__(self, timeout_s: float = 20.0, feed_url: str | None = None) -> None:
        self.timeout_s = timeout_s
        self.feed_url = feed_url
        self._local = threading.local()

    def _api(self) -> Any:
        api = getattr(self._local, "api", None)
        if api is None:
            from FlightRadarAPI import FlightRadar24API

            # No retry inside the client: the extractor owns retries, backoff and the tile's fate.
            api = FlightRadar24API(timeout=self.timeout_s)  # type: ignore[arg-type]
            self._local.api = api
        return api

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from FlightRadarAPI.request import APIClient

            client = self._local.client = APIClient()  # no retry policy: the extractor owns retries
        return client

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        """Flights in `bounds` as text; FR24 takes the box as `north,south,west,east`."""
        try:
            flights = self._get_flights(bounds.fr24) if self.feed_url else self._api().get_flights(bounds=bounds.fr24)
        except Exception as exc:
            kind = _failure_kind(exc)
            message = f"{type(exc).__name__}: {str(exc)[:200]}"
            if kind == "blocked":
                raise BlockedFeedError(message) from exc
            if kind == "transient":
                raise TransientFeedError(message) from exc
            raise
        return [flight_record(f) for f in flights]

    def _get_flights(self, fr24_bounds: str) -> list[Any]:
        """`FlightRadar24API.get_flights(bounds=...)`, anonymous, asked of `feed_url`: same parameters and headers,
        and the same re-ask (sticky load-balancer cookies dropped) when a backend answers empty with a count."""
        from FlightRadarAPI.api import FEED_EMPTY_RETRIES, FEED_STICKY_COOKIES
        from FlightRadarAPI.core import Core
        from FlightRadarAPI.entities.flight import Flight
        from FlightRadarAPI.flight_tracker_config import FlightTrackerConfig

        client = self._client()
        params = {**dataclasses.asdict(FlightTrackerConfig()), "bounds": fr24_bounds}
        flights: list[Any] = []
        for _ in range(FEED_EMPTY_RETRIES + 1):
            response = client.request(self.feed_url, params=params, headers=Core.json_headers, timeout=self.timeout_s)
            content = response.get_json_content()
            flights = [Flight(key, info) for key, info in content.items() if key[:1].isnumeric()]
            if flights or not content.get("full_count"):
                break
            for name in FEED_STICKY_COOKIES:
                client.delete_cookie(name)
        return flights

    def fetch_airports(self) -> list[dict[str, Any]]:
        """Every airport FR24 lists, with its country name (e.g. "United States")."""
        airports = self._api().get_airports()
        return [
            {
                "iata": getattr(a, "iata", "") or "",
                "icao": getattr(a, "icao", "") or "",
                "name": getattr(a, "name", "") or "",
                "country": getattr(a, "country", "") or "",
                "latitude": "" if a.latitude is None else a.latitude,
                "longitude": "" if a.longitude is None else a.longitude,
                "altitude": "" if getattr(a, "altitude", None) is None else a.altitude,
            }
            for a in airports
        ]

    def fetch_airlines(self) -> list[dict[str, Any]]:
        """Every airline FR24 lists."""
        return [
            {"icao": a.get("ICAO") or "", "iata": a.get("IATA") or "", "name": a.get("Name") or ""}
            for a in self._api().get_airlines()
        ]


def feed(config: JobConfig, now: datetime) -> FlightRadarFeed:
    """The source's factory (etl.core.source_registry): FR24's web feed, or the endpoint config.feed_url names."""
    return FlightRadarFeed(timeout_s=config.extract.timeout_s, feed_url=config.feed_url)


def flight_record(flight: Any) -> dict[str, str]:
    """A FlightRadarAPI `Flight` as text values keyed by FLIGHT_FIELDS ("" for None)."""
    record = {name: _text(getattr(flight, name, None)) for name in FLIGHT_FIELDS}
    # FlightRadarAPI derives airline_iata from the flight number and says "N/A" when there is none:
    # that value was never received, so it is written as missing, like the real captures show it.
    if not record["number"] or record["number"] == "N/A":
        record["airline_iata"] = ""
    return record


def _text(value: Any) -> str:
    return "" if value is None else str(value)
