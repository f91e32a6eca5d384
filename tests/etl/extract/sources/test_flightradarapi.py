from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from FlightRadarAPI.core import Core

from etl.core.config import ExtractSettings
from etl.extract.feed import WORLD, BlockedFeedError, Bounds, TransientFeedError
from etl.extract.simulate.world import World
from etl.extract.sources.flightradarapi import FlightRadarFeed
from etl.extract.sources.simulated import SimulatedFeed
from etl.extract.tiling import extract_world
from tests.etl.extract.helpers import flight
from tests.servers.feed_server import FEED_PATH, flightradarapi_pointed_at, serve_feed

ORIGINAL_FEED_URL = Core.real_time_flight_tracker_data_url


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


@pytest.mark.parametrize(("status", "blocked"), [(403, True), (429, True), (503, False), (520, False)])
def test_slow_down_answers_are_told_apart_from_server_errors(local_only, world, status, blocked):
    sim = SimulatedFeed(world.flights, failure_rate=1.0)
    with serve_feed(sim, failure_statuses=(status,)) as server:
        feed = FlightRadarFeed(timeout_s=5, feed_url=server.base_url + FEED_PATH)
        with pytest.raises(TransientFeedError) as caught:
            feed.fetch_flights(Bounds(0, 10, 0, 10))
    assert isinstance(caught.value, BlockedFeedError) is blocked


def test_feed_url_is_per_adapter_and_sends_the_sdks_own_request(local_only):
    north = SimulatedFeed([flight("4a000001", 50.0, 8.0)])
    south = SimulatedFeed([flight("4b000002", -33.9, 151.2)])
    with serve_feed(north) as first, serve_feed(south) as second:
        feeds = [FlightRadarFeed(timeout_s=5, feed_url=s.base_url + FEED_PATH) for s in (first, second)]
        with ThreadPoolExecutor(max_workers=2) as pool:  # both at once: no shared address to race on
            got = list(pool.map(lambda f: f.fetch_flights(WORLD), feeds))
    assert [[r["id"] for r in rows] for rows in got] == [["4a000001"], ["4b000002"]]
    assert Core.real_time_flight_tracker_data_url == ORIGINAL_FEED_URL  # FR24's address untouched
    headers = first.headers[0]
    # FlightRadarAPI's JSON headers as it sends them to FR24 (a Chrome profile, FR24's origin and referer).
    assert headers["user-agent"] == Core.json_headers["user-agent"] and "Chrome/" in headers["user-agent"]
    assert headers["accept"] == "application/json"
    assert headers["origin"] == "https://www.flightradar24.com"
    assert headers["referer"] == "https://www.flightradar24.com/"
    query = first.queries[0]
    assert query["bounds"] == ["90,-90,-180,180"] and query["gnd"] == ["1"] and query["estimated"] == ["1"]
