"""A local server (127.0.0.1, an ephemeral port) speaking the official Flightradar24 API's wire format, for tests.

What it answers, as read in fr24sdk 0.3.1 (transport.py, resources/live/positions.py, models/flight.py):
`GET /api/live/flight-positions/full?bounds=<north>,<south>,<west>,<east>&limit=<1..30000>` with the headers
`Accept: application/json`, `Accept-Version: v1` and `Authorization: Bearer <token>`, and a body
`{"data": [{fr24_id, lat, lon, track, alt, gspeed, vspeed, squawk, timestamp, source, flight, callsign, hex,
type, reg, painted_as, operating_as, orig_iata, orig_icao, dest_iata, dest_icao, eta}, ...]}`. Error answers carry
a JSON body with `message` and `details`, the two keys the SDK reads: 400 for bad parameters, 401 for a missing
or wrong token, 404 for other paths, and whatever status `fail_with(bounds)` chooses (429, 5xx, 402, 403 ...).
The flights come from a simulated world's records, read only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from etl.extract.feed import Bounds
from etl.extract.sources.simulated import SimulatedFeed
from tests.servers.local import LocalServer, QuietHandler, serving

LIVE_FULL_PATH = "/api/live/flight-positions/full"
MAX_LIMIT = 30_000
_REASONS = {
    400: "Bad Request",
    401: "Unauthenticated.",
    402: "Payment Required: not enough credits",
    403: "Forbidden: the subscription does not include this endpoint",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Server Error",
    503: "Service Unavailable",
}


def _int(text: str) -> int:
    return int(float(text)) if text else 0


def _or_none(text: str) -> str | None:
    return text or None


def _iso(epoch_text: str) -> str:
    return datetime.fromtimestamp(int(epoch_text), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def position(record: dict[str, str], icao_by_iata: dict[str, str]) -> dict[str, Any]:
    """A simulated flight record as one element of the official API's `data` list.

    An airport's ICAO code is the record's own (`origin_airport_icao`, `destination_airport_icao`: an airfield
    without an IATA code has only that), else the one airportsdata gives its IATA code.
    """
    origin, destination = record["origin_airport_iata"], record["destination_airport_iata"]
    return {
        "fr24_id": record["id"],
        "lat": float(record["latitude"]),
        "lon": float(record["longitude"]),
        "track": _int(record["heading"]),
        "alt": _int(record["altitude"]),
        "gspeed": _int(record["ground_speed"]),
        "vspeed": _int(record["vertical_speed"]),
        "squawk": record["squawk"],
        "timestamp": _iso(record["time"]),
        "source": "ADSB",
        "flight": _or_none(record["number"]),
        "callsign": _or_none(record["callsign"]),
        "hex": _or_none(record["icao_24bit"]),
        "type": _or_none(record["aircraft_code"]),
        "reg": _or_none(record["registration"]),
        "painted_as": _or_none(record["airline_icao"]),
        "operating_as": _or_none(record["airline_icao"]),
        "orig_iata": _or_none(origin),
        "orig_icao": record.get("origin_airport_icao") or icao_by_iata.get(origin),
        "dest_iata": _or_none(destination),
        "dest_icao": record.get("destination_airport_icao") or icao_by_iata.get(destination),
        "eta": None,
    }


class _Handler(QuietHandler):
    server: Fr24ApiServer

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.send_body(status, json.dumps(body).encode(), headers)

    def _error(self, status: int, details: str) -> None:
        headers = {"Retry-After": "1"} if status == 429 else None
        self._send(status, {"message": _REASONS.get(status, "Error"), "details": details}, headers)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        server = self.server
        with server.lock:
            server.requests.append(
                {
                    "path": url.path,
                    "query": parse_qs(url.query),
                    "accept_version": self.headers.get("Accept-Version"),
                    "authorization_ok": self.headers.get("Authorization") == f"Bearer {server.token}",
                }
            )
        if url.path != LIVE_FULL_PATH:
            self._error(404, f"no endpoint {url.path}")
            return
        if self.headers.get("Authorization") != f"Bearer {server.token}":
            self._error(401, "a valid bearer token is required")
            return
        if self.headers.get("Accept-Version") != "v1":
            self._error(400, "Accept-Version must be v1")
            return
        query = parse_qs(url.query)
        try:
            north, south, west, east = (float(v) for v in query["bounds"][0].split(","))
            bounds = Bounds(south, north, west, east)
            limit = int(query["limit"][0]) if "limit" in query else MAX_LIMIT
        except (KeyError, ValueError):
            self._error(400, "bounds must be north,south,west,east and limit a whole number")
            return
        if not 1 <= limit <= MAX_LIMIT:
            self._error(400, f"limit must be between 1 and {MAX_LIMIT}")
            return
        status = server.fail_with(bounds) if server.fail_with else None
        if status is not None:
            self._error(status, f"simulated {status} for {query['bounds'][0]}")
            return
        found = server.feed.matching(bounds)
        if len(found) > limit:  # the highest first, then by id: which flights survive the limit is deterministic
            found = sorted(found, key=lambda r: (-_int(r["altitude"]), r["id"]))[:limit]
        data = [position(r, server.icao_by_iata) for r in found]
        with server.lock:
            server.flights_returned += len(data)
        self._send(200, {"data": data})


class Fr24ApiServer(LocalServer):
    """Serves `flights` at LIVE_FULL_PATH to requests bearing `token`; `fail_with(bounds)` may pick an error status."""

    def __init__(
        self,
        flights: Iterable[dict[str, str]],
        *,
        token: str,
        fail_with: Callable[[Bounds], int | None] | None = None,
    ) -> None:
        super().__init__(_Handler)
        import airportsdata

        self.feed = SimulatedFeed(flights)  # only its bounds index is used (matching), not its cap
        self.token = token
        self.fail_with = fail_with
        self.icao_by_iata = {k: v["icao"] for k, v in airportsdata.load("IATA").items() if v.get("icao")}
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.flights_returned = 0


def serve_fr24api(flights: Iterable[dict[str, str]], **kwargs: Any) -> AbstractContextManager[Fr24ApiServer]:
    """Run a Fr24ApiServer in a thread for the duration of the block."""
    return serving(Fr24ApiServer(flights, **kwargs), name="fr24api-sim")
