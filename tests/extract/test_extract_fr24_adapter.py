from __future__ import annotations

import pytest
from FlightRadarAPI.core import Core

from etl.config import ExtractSettings
from etl.extract.feed import Bounds, TransientFeedError
from etl.extract.fr24 import FlightRadarFeed
from etl.extract.tiling import extract_world
from etl.simulate.feed import SimulatedFeed
from etl.simulate.http_server import flightradarapi_pointed_at, serve_feed
from etl.simulate.world import World

ORIGINAL_FEED_URL = Core.real_time_flight_tracker_data_url


@pytest.fixture
def local_only(monkeypatch):
    """Keep any proxy from the environment away from 127.0.0.1."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture(scope="module")
def world():
    return World.generate(1500, seed=11)


def test_adapter_sends_fr24_bounds_and_parses_the_wire_format(local_only, world):
    sim = SimulatedFeed(world.flights, cap=400)
    tile = Bounds(30, 60, -15, 35)
    with serve_feed(sim) as server, flightradarapi_pointed_at(server.base_url):
        assert Core.real_time_flight_tracker_data_url.startswith("http://127.0.0.1:")
        got = FlightRadarFeed(timeout_s=5).fetch_flights(tile)
    assert Core.real_time_flight_tracker_data_url == ORIGINAL_FEED_URL
    assert server.queries[0]["bounds"] == ["60,30,-15,35"]  # north,south,west,east
    assert got == sim.fetch_flights(tile)  # every field, as text, identical to the records served
    assert 0 < len(got) <= 400


def test_tiled_capture_through_the_real_adapter_covers_the_world(local_only, world):
    sim = SimulatedFeed(world.flights, cap=150)
    with serve_feed(sim) as server, flightradarapi_pointed_at(server.base_url):
        capture = extract_world(FlightRadarFeed(timeout_s=5), ExtractSettings(tile_cap=150), sleep=lambda s: None)
    assert {r["id"] for r in capture.rows} == {f["id"] for f in world.flights}
    assert capture.stats["requests"] == len(server.queries) and capture.stats["failed_tiles"] == []


@pytest.mark.parametrize("status", [503, 520, 403])
def test_5xx_and_cloudflare_answers_are_transient(local_only, world, status):
    sim = SimulatedFeed(world.flights, failure_rate=1.0)
    with serve_feed(sim, failure_statuses=(status,)) as server, flightradarapi_pointed_at(server.base_url):
        with pytest.raises(TransientFeedError):
            FlightRadarFeed(timeout_s=5).fetch_flights(Bounds(0, 10, 0, 10))


def test_failures_are_retried_through_the_adapter_until_the_tile_answers(local_only, world):
    tile = Bounds(30, 60, -15, 35)
    failing = {"left": 2}

    def fail_twice(bounds):
        failing["left"] -= 1
        return failing["left"] >= 0

    sim = SimulatedFeed(world.flights, fail_when=fail_twice)
    with serve_feed(sim) as server, flightradarapi_pointed_at(server.base_url):
        capture = extract_world(FlightRadarFeed(timeout_s=5), ExtractSettings(), start_tiles=[tile], sleep=lambda s: 0)
    assert capture.stats["requests"] == 3 and capture.stats["failed_tiles"] == []
    assert {r["id"] for r in capture.rows} == {f["id"] for f in sim.matching(tile)}


def test_a_refused_connection_is_transient(local_only):
    with flightradarapi_pointed_at("http://127.0.0.1:9"):  # the discard port: nothing listens there
        with pytest.raises(TransientFeedError):
            FlightRadarFeed(timeout_s=2).fetch_flights(Bounds(0, 1, 0, 1))


def test_airports_come_back_with_country_and_position(local_only, world):
    with serve_feed(SimulatedFeed(world.flights)) as server, flightradarapi_pointed_at(server.base_url):
        airports = FlightRadarFeed(timeout_s=5).fetch_airports()
    cdg = next(a for a in airports if a["iata"] == "CDG")
    assert cdg["country"] == "FR" and abs(cdg["latitude"] - 49.0) < 0.1 and abs(cdg["longitude"] - 2.55) < 0.1
