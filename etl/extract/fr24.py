"""The production feed: FlightRadarAPI's `get_flights(bounds=...)`, `get_airports()` and `get_airlines()`."""

from __future__ import annotations

import threading
from typing import Any

from etl.columns import FLIGHT_FIELDS
from etl.extract.feed import Bounds, TransientFeedError


def _is_transient(exc: BaseException) -> bool:
    """Network errors, Cloudflare blocks and 5xx answers are worth a retry; 4xx and bad payloads are not."""
    from FlightRadarAPI.errors import CloudflareError

    if isinstance(exc, CloudflareError):
        return True
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status > 0:
        return status >= 500 or status == 429
    # curl_cffi's connection, timeout and DNS errors subclass OSError.
    return isinstance(exc, OSError)


class FlightRadarFeed:
    """FlightRadarAPI behind the Feed interface; one client per thread, since a client holds one HTTP session."""

    def __init__(self, timeout_s: float = 20.0) -> None:
        self.timeout_s = timeout_s
        self._local = threading.local()

    def _api(self) -> Any:
        api = getattr(self._local, "api", None)
        if api is None:
            from FlightRadarAPI import FlightRadar24API

            # No retry inside the client: the extractor owns retries, backoff and the tile's fate.
            api = FlightRadar24API(timeout=self.timeout_s)  # type: ignore[arg-type]
            self._local.api = api
        return api

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        """Flights in `bounds` as text; FR24 takes the box as `north,south,west,east`."""
        try:
            flights = self._api().get_flights(bounds=bounds.fr24)
        except Exception as exc:
            if _is_transient(exc):
                raise TransientFeedError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
            raise
        return [flight_record(f) for f in flights]

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
