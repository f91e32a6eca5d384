"""The official-API adapter, through the real fr24sdk against the local wire-format server: no network."""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import replace

import pytest

from etl.core.config import ExtractSettings
from etl.core.errors import SourceRefusedError
from etl.extract.feed import BlockedFeedError, Bounds, TransientFeedError
from etl.extract.simulate.world import World
from etl.extract.sources.fr24api import ApiToken, Fr24ApiFeed, epoch_text, on_ground_flag
from etl.extract.tiling import extract_world
from tests.etl.extract.helpers import flight
from tests.paths import SAMPLES
from tests.servers.fr24api_server import LIVE_FULL_PATH, serve_fr24api

TOKEN = "tok-3f9a1c-never-to-be-seen"
NO_WAIT = ExtractSettings(
    backoff_base_s=0.0, backoff_max_s=0.0, blocked_backoff_base_s=0.0, blocked_backoff_max_s=0.0, max_requests_per_s=0
)


@pytest.fixture(autouse=True)
def _local(local_only: None) -> None:
    """Every test here talks to a server on 127.0.0.1."""


@pytest.fixture(scope="module")
def world():
    return World.generate(1500, seed=11)


LHR_JFK = flight(
    "3b1d9f2a",
    51.4706,
    -0.4619,
    time=1_795_356_000,  # 2026-11-22T14:00:00Z
    icao_24bit="400A10",
    heading="285",
    altitude="36000",
    ground_speed="480",
    squawk="2000",
    aircraft_code="B77W",
    registration="G-STBA",
    origin_airport_iata="LHR",
    destination_airport_iata="JFK",
    number="BA117",
    airline_iata="BA",
    on_ground="0",
    vertical_speed="-64",
    callsign="BAW117",
    airline_icao="BAW",
)
TAXIING = flight("3b1d9f2b", 49.0097, 2.5479, time=1_795_355_990, altitude="0", ground_speed="12", number="")


def test_one_position_maps_onto_every_raw_field():
    with serve_fr24api([LHR_JFK, TAXIING], token=TOKEN) as server:
        got = Fr24ApiFeed(TOKEN, base_url=server.base_url).fetch_flights(Bounds(40, 60, -10, 10))
    assert got == [
        {
            "latitude": "51.4706",
            "longitude": "-0.4619",
            "id": "3b1d9f2a",
            "icao_24bit": "400A10",
            "heading": "285",
            "altitude": "36000",
            "ground_speed": "480",
            "squawk": "2000",
            "aircraft_code": "B77W",
            "registration": "G-STBA",
            "time": "1795356000",
            "origin_airport_iata": "LHR",
            "destination_airport_iata": "JFK",
            "number": "BA117",
            "airline_iata": "BA",
            "on_ground": "0",
            "vertical_speed": "-64",
            "callsign": "BAW117",
            "airline_icao": "BAW",
            "origin_airport_icao": "EGLL",  # the server's airportsdata ICAO code of LHR, as the API sends it
            "destination_airport_icao": "KJFK",
        },
        {
            "latitude": "49.0097",
            "longitude": "2.5479",
            "id": "3b1d9f2b",
            "icao_24bit": "",
            "heading": "0",
            "altitude": "0",
            "ground_speed": "12",
            "squawk": "",
            "aircraft_code": "",
            "registration": "",
            "time": "1795355990",
            "origin_airport_iata": "",
            "destination_airport_iata": "",
            "number": "",
            "airline_iata": "",
            "on_ground": "1",  # 0 ft, 12 kt
            "vertical_speed": "0",
            "callsign": "",
            "airline_icao": "",
            "origin_airport_icao": "",
            "destination_airport_icao": "",
        },
    ]
    [request] = server.requests
    assert request["path"] == LIVE_FULL_PATH
    assert request["query"] == {"bounds": ["60.0,40.0,-10.0,10.0"], "limit": ["30000"]}  # north,south,west,east
    assert request["accept_version"] == "v1" and request["authorization_ok"]


@pytest.mark.parametrize(
    ("alt", "gspeed", "expected"),
    [(0, 0, "1"), (100, 80, "1"), (101, 0, "0"), (0, 81, "0"), (35000, 450, "0"), (None, 3, "0"), (0, None, "0")],
)
def test_on_ground_rule(alt, gspeed, expected):
    assert on_ground_flag(alt, gspeed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T14:00:00Z", "1795356000"),
        ("2026-11-22T15:00:00+01:00", "1795356000"),
        ("2026-11-22T14:00:00", "1795356000"),
        ("yesterday", ""),
        (None, ""),
    ],
)
def test_timestamps_become_epoch_seconds(text, expected):
    assert epoch_text(text) == expected


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples/fr24 is not beside the repository")
def test_on_ground_rule_against_fr24s_own_flag_in_real_captures():
    airborne_called_grounded = grounded_called_airborne = rows = 0
    for path in sorted(SAMPLES.glob("flights_2025*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if not (row["altitude"].lstrip("-").isdigit() and row["ground_speed"].isdigit()):
                    continue
                rows += 1
                derived = on_ground_flag(int(row["altitude"]), int(row["ground_speed"]))
                airborne_called_grounded += row["on_ground"] == "0" and derived == "1"
                grounded_called_airborne += row["on_ground"] == "1" and derived == "0"
    assert rows == 19_520
    assert airborne_called_grounded == 0  # a live flight is never dropped as grounded
    assert grounded_called_airborne <= 26  # gliders parked at 101-125 ft, take-off and landing rolls


def test_whole_world_through_the_sdk_splits_tiles_at_its_own_limit(world):
    with serve_fr24api(world.flights, token=TOKEN) as server:
        feed = Fr24ApiFeed(TOKEN, base_url=server.base_url, limit=200)
        capture = extract_world(feed, replace(NO_WAIT, tile_cap=200), sleep=lambda s: None)
    assert {r["id"] for r in capture.rows} == {f["id"] for f in world.flights}
    assert capture.stats["split_tiles"] > 0 and capture.stats["failed_tiles"] == []
    # the adapter's own counts agree with what the server saw and sent
    assert feed.usage() == {
        "requests": len(server.requests),
        "flights_returned": server.flights_returned,
        "errors_by_status": {},
        "limit": 200,
    }
    assert capture.stats["requests"] == len(server.requests)
    assert {q["query"]["limit"][0] for q in server.requests} == {"200"}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(world, status):
    with serve_fr24api(world.flights, token=TOKEN, fail_with=lambda b: status) as server:
        feed = Fr24ApiFeed(TOKEN, base_url=server.base_url)
        with pytest.raises(TransientFeedError, match=f"HTTP {status}: simulated {status}") as raised:
            feed.fetch_flights(Bounds(0, 10, 0, 10))
    assert isinstance(raised.value, BlockedFeedError) == (status == 429)  # 429 waits the longer, blocked backoff
    assert feed.usage()["errors_by_status"] == {str(status): 1}


def test_a_payment_answer_is_not_retried(world):
    with serve_fr24api(world.flights, token=TOKEN, fail_with=lambda b: 402) as server:
        feed = Fr24ApiFeed(TOKEN, base_url=server.base_url)
        capture = extract_world(feed, NO_WAIT, start_tiles=[Bounds(0, 10, 0, 10)])
    assert capture.stats["requests"] == 1 == len(server.requests)
    assert capture.stats["failed_tile_errors"]["0,10,0,10"].startswith("Fr24ApiError: HTTP 402: simulated")


def test_a_permission_answer_is_a_refused_token_named_by_its_variable(world):
    token = ApiToken(TOKEN, "the environment variable FR24_API_TOKEN")
    with serve_fr24api(world.flights, token=TOKEN, fail_with=lambda b: 403) as server:
        feed = Fr24ApiFeed(token, base_url=server.base_url)
        capture = extract_world(feed, NO_WAIT, start_tiles=[Bounds(0, 10, 0, 10)])
    assert capture.stats["requests"] == 1 == len(server.requests)
    assert capture.stats["failed_tile_errors"]["0,10,0,10"] == (
        "Fr24ApiRefusedError: the official API refused the token (403): check the environment variable "
        "FR24_API_TOKEN (the API says: simulated 403 for 10.0,0.0,0.0,10.0)"
    )


def test_a_wrong_token_fails_once_then_the_breaker_declares_the_source_unusable(world):
    token = ApiToken("not-the-token", "the secret flight-kpis/fr24-api-token")
    with serve_fr24api(world.flights, token=TOKEN) as server:
        feed = Fr24ApiFeed(token, base_url=server.base_url)
        with pytest.raises(SourceRefusedError) as raised:
            extract_world(feed, replace(NO_WAIT, concurrency=1))
    assert len(server.requests) == 1 and not server.requests[0]["authorization_ok"]
    assert str(raised.value) == (
        "the official API refused the token (401): check the secret flight-kpis/fr24-api-token "
        "(the API says: a valid bearer token is required); nothing written"
    )
    assert "not-the-token" not in repr(token) and "not-the-token" not in str(raised.value)
    # what the failed run's manifest keeps: the attempt's figures, the API's usage among them
    figures = raised.value.figures
    assert figures["api_usage"] == {
        "requests": 1,
        "flights_returned": 0,
        "errors_by_status": {"401": 1},
        "limit": 30000,
    }
    assert figures["tiles"] == 5 and figures["failed_tile_share"] == 1.0


def test_the_sdk_s_own_error_lines_go_to_the_job_log_not_stderr(world, capsys):
    from etl.core.log import JsonLinesFormatter, get_logger, json_stream_handler, use_handlers

    previous = list(get_logger().handlers)
    with serve_fr24api(world.flights, token=TOKEN, fail_with=lambda b: 503) as server:  # the SDK logs 5xx as errors
        feed = Fr24ApiFeed(TOKEN, base_url=server.base_url)
        lines = io.StringIO()
        handler = json_stream_handler(lines)
        handler.setFormatter(JsonLinesFormatter())
        use_handlers(handler)
        try:
            with pytest.raises(TransientFeedError):
                feed.fetch_flights(Bounds(0, 10, 0, 10))
        finally:
            use_handlers(*previous)
    assert capsys.readouterr().err == ""
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    errors = [r for r in records if r["level"] == "error"]
    assert errors and all(r["logger"].startswith("fr24sdk") for r in errors)
    assert TOKEN not in lines.getvalue()


def test_answers_are_retried_through_the_adapter_until_the_tile_answers(world):
    tile = Bounds(30, 60, -15, 35)
    left = {"failures": 2}

    def fail_twice(bounds):
        left["failures"] -= 1
        return 429 if left["failures"] >= 0 else None

    with serve_fr24api(world.flights, token=TOKEN, fail_with=fail_twice) as server:
        capture = extract_world(Fr24ApiFeed(TOKEN, base_url=server.base_url), NO_WAIT, start_tiles=[tile])
    assert capture.stats["requests"] == 3 and capture.stats["failed_tiles"] == []
    expected = {f["id"] for f in world.flights if tile.contains(float(f["latitude"]), float(f["longitude"]))}
    assert {r["id"] for r in capture.rows} == expected and expected


def test_a_refused_connection_is_transient():
    feed = Fr24ApiFeed(TOKEN, base_url="http://127.0.0.1:9", timeout_s=2)  # the discard port: nothing listens
    with pytest.raises(TransientFeedError, match="TransportError"):
        feed.fetch_flights(Bounds(0, 1, 0, 1))
    assert feed.usage()["errors_by_status"] == {"network": 1}


def test_the_token_is_in_no_log_record_even_at_debug(world, caplog):
    with caplog.at_level(logging.DEBUG), serve_fr24api(world.flights, token=TOKEN) as server:
        feed = Fr24ApiFeed(TOKEN, base_url=server.base_url)
        feed.fetch_flights(Bounds(30, 60, -15, 35))
        assert TOKEN not in repr(feed)
    assert any("127.0.0.1" in r.getMessage() for r in caplog.records)  # requests were logged (by httpx) ...
    assert not any(TOKEN in r.getMessage() for r in caplog.records)  # ... but never their Authorization header
