"""A local HTTP server (127.0.0.1 only) that speaks FlightRadarAPI's web feed wire format, for adapter tests."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from etl.extract.feed import Bounds, TransientFeedError
from etl.extract.sources.simulated import SimulatedFeed
from etl.extract.sources.snapshot import WIRE_INDEX
from tests.servers.local import LocalServer, QuietHandler, serving

FEED_PATH = "/zones/fcgi/feed.js"
AIRPORTS_PATH = "/_json/airports.php"
_FLOATS = {"latitude", "longitude"}
_INTS = {"heading", "altitude", "ground_speed", "time", "on_ground", "vertical_speed"}


def wire_values(record: dict[str, str]) -> list[Any]:
    """A flight record as the feed's 19-value array (numbers as JSON numbers where they parse)."""
    values: list[Any] = [""] * 19
    for name, index in WIRE_INDEX.items():
        text = record.get(name, "")
        if name in _FLOATS or name in _INTS:
            try:
                values[index] = float(text) if name in _FLOATS else int(text)
                continue
            except ValueError:
                pass
        values[index] = text
    values[7] = "F-SIM1"  # the receiving radar, which FlightRadarAPI does not read
    values[17] = 0
    return values


class _Handler(QuietHandler):
    server: FeedHTTPServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == AIRPORTS_PATH:
            rows = [
                {
                    "name": a["name"],
                    "iata": a["iata"],
                    "icao": a["icao"],
                    "lat": a["latitude"],
                    "lon": a["longitude"],
                    "country": a["country"],
                    "alt": a["altitude"] or 0,
                }
                for a in self.server.feed.fetch_airports()
            ]
            self.send_body(200, json.dumps({"version": "1", "rows": rows}).encode())
            return
        if url.path != FEED_PATH:
            self.send_body(404, b'{"error": "not found"}')
            return
        query = parse_qs(url.query)
        self.server.queries.append(query)
        self.server.headers.append({k.lower(): v for k, v in self.headers.items()})
        try:
            north, south, west, east = (float(v) for v in query["bounds"][0].split(","))
            bounds = Bounds(south, north, west, east)
        except (KeyError, ValueError):
            self.send_body(400, b'{"error": "bad bounds"}')
            return
        if self.server.delay_s:
            time.sleep(self.server.delay_s)
        if self.server.fault is not None and (answer := self.server.fault(bounds)) is not None:
            status, payload, headers = answer
            self.send_body(status, payload, headers)
            return
        try:
            flights = self.server.feed.fetch_flights(bounds)
        except TransientFeedError:
            status = next(self.server.failure_statuses)
            if status == 403:  # what Cloudflare's bot management answers, marked as its own decision
                self.send_body(403, b"<html>blocked</html>", {"Content-Type": "text/html", "cf-mitigated": "challenge"})
            else:
                self.send_body(status, b"<html>upstream error</html>", {"Content-Type": "text/html"})
            return
        body: dict[str, Any] = {"full_count": len(self.server.feed.matching(bounds)), "version": 4}
        for record in flights:
            body[record["id"]] = wire_values(record)
        body["stats"] = {"total": {"ads-b": len(flights)}, "visible": {"ads-b": len(flights)}}
        self.send_body(200, json.dumps(body).encode())


class FeedHTTPServer(LocalServer):
    """Serves a SimulatedFeed at FEED_PATH; its transient failures answer 503, 520 or a Cloudflare 403 in turn.

    `feed` may be replaced between requests (the next slot of a world); `queries` and `headers` record every feed
    request.
    """

    def __init__(
        self,
        feed: SimulatedFeed,
        failure_statuses: tuple[int, ...] = (503, 520, 403),
        *,
        fault: Callable[[Bounds], tuple[int, bytes, dict[str, str]] | None] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """`fault` may answer a request itself (status, body, headers); `delay_s` holds every feed answer back."""
        super().__init__(_Handler)
        self.feed = feed
        self.fault = fault
        self.delay_s = delay_s
        self.failure_statuses = itertools.cycle(failure_statuses)
        self.queries: list[dict[str, list[str]]] = []
        self.headers: list[dict[str, str]] = []  # request headers of every feed request, names lower-cased


def serve_feed(feed: SimulatedFeed, **kwargs: Any) -> AbstractContextManager[FeedHTTPServer]:
    """Run a FeedHTTPServer in a thread for the duration of the block."""
    return serving(FeedHTTPServer(feed, **kwargs), name="fr24-sim")


@contextmanager
def flightradarapi_pointed_at(base_url: str) -> Iterator[None]:
    """Point FlightRadarAPI's feed and airports URLs at `base_url`, restoring the class attributes afterwards."""
    from FlightRadarAPI.core import Core

    saved = Core.real_time_flight_tracker_data_url, Core.airports_json_url
    Core.real_time_flight_tracker_data_url = base_url + FEED_PATH
    Core.airports_json_url = base_url + AIRPORTS_PATH
    try:
        yield
    finally:
        Core.real_time_flight_tracker_data_url, Core.airports_json_url = saved
