"""Airfields without an IATA code: served by the official API with their ICAO codes only, they get a route.

Through the local wire-format server and the fr24api source (fr24sdk), then clean and enrich on the job's own
references (`load_references`: airportsdata). Facts written here by hand: Reims-Prunay (LFQA, 49.2087 N 4.15658 E)
and Salon-Eyguieres (LFNE, 43.6583 N 5.01361 E) are French airfields without an IATA code; Fairoaks (EGTF) is an
English one; London Heathrow is LHR / EGLL (51.4706 N 0.46194 W), Paris-CDG CDG / LFPG (49.0128 N 2.55 E).
"""

from __future__ import annotations

import math

import pytest
from pyspark.sql import SparkSession

from etl.core.columns import RAW_COLUMNS, RAW_REQUESTED_AT, RAW_TILE
from etl.extract.feed import Bounds
from etl.extract.sources.fr24api import Fr24ApiFeed
from etl.quality.coverage import mapping_coverage_counts
from etl.reference import load_references
from etl.transform.clean import clean_flights
from etl.transform.enrich import enrich_live_flights
from tests.etl.extract.helpers import flight
from tests.servers.fr24api_server import serve_fr24api

TOKEN = "tok-icao-airfields"
R = 6371.0088


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, worked out here (DESIGN.md: haversine, mean Earth radius 6371.0088 km)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(a))


def _airborne(flight_id: str, lat: float, lon: float, **fields: str) -> dict[str, str]:
    return flight(
        flight_id, lat, lon, altitude="3500", ground_speed="95", on_ground="0", aircraft_code="DR40", **fields
    )


FLIGHTS = [
    # Airfield to airfield: ICAO codes only.
    _airborne("4a000001", 46.5, 4.6, origin_airport_icao="LFQA", destination_airport_icao="LFNE"),
    # An airport with an IATA code, named by its ICAO code only: it is found, and counted under its IATA code.
    _airborne("4a000002", 50.3, 1.2, origin_airport_icao="EGLL", destination_airport_icao="LFPG"),
    # IATA at one end, an airfield at the other.
    _airborne("4a000003", 51.4, -0.5, origin_airport_iata="LHR", destination_airport_icao="EGTF"),
    # An ICAO code no reference knows: carried, not resolved.
    _airborne("4a000004", 47.0, 3.0, origin_airport_icao="ZZZZ", destination_airport_icao="LFNE"),
]


@pytest.fixture(autouse=True)
def _local(local_only: None) -> None:
    """The API server listens on 127.0.0.1 only."""


@pytest.fixture(scope="module")
def served() -> list[dict[str, str]]:
    with serve_fr24api(FLIGHTS, token=TOKEN) as server:
        return Fr24ApiFeed(TOKEN, base_url=server.base_url).fetch_flights(Bounds(40, 55, -5, 10))


def test_the_official_api_gives_the_icao_codes_and_raw_keeps_them(served):
    by_id = {r["id"]: r for r in served}
    assert (by_id["4a000001"]["origin_airport_iata"], by_id["4a000001"]["origin_airport_icao"]) == ("", "LFQA")
    assert by_id["4a000001"]["destination_airport_icao"] == "LFNE"
    # The server gives an IATA-coded airport its ICAO code from airportsdata, as the API does.
    assert (by_id["4a000003"]["origin_airport_iata"], by_id["4a000003"]["origin_airport_icao"]) == ("LHR", "EGLL")
    assert set(RAW_COLUMNS) - {RAW_TILE, RAW_REQUESTED_AT} == set(by_id["4a000001"])


def test_icao_only_airfields_get_their_route_and_continent(spark: SparkSession, served):
    rows = [{**r, RAW_TILE: "40,55,-5,10", RAW_REQUESTED_AT: "2026-11-22T14:00:03Z"} for r in served]
    raw = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in rows], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    silver = clean_flights(raw).silver
    refs = load_references(spark, airports_csv=None, airlines_csv=None)
    live = {r["flight_id"]: r for r in enrich_live_flights(silver, refs).collect()}

    glider = live["4a000001"]
    assert (glider["origin_iata"], glider["destination_iata"]) == ("LFQA", "LFNE")  # an airfield's code: ICAO
    assert (glider["origin_continent"], glider["destination_continent"]) == ("Europe", "Europe")
    assert glider["distance_km"] == pytest.approx(_km(49.2087, 4.15658, 43.6583, 5.01361), abs=0.01)

    named_by_icao = live["4a000002"]
    assert (named_by_icao["origin_iata"], named_by_icao["destination_iata"]) == ("LHR", "CDG")
    assert named_by_icao["distance_km"] == pytest.approx(_km(51.4706, -0.46194, 49.0128, 2.55), abs=0.01)

    mixed = live["4a000003"]
    assert (mixed["origin_iata"], mixed["destination_iata"]) == ("LHR", "EGTF")
    assert mixed["destination_continent"] == "Europe" and mixed["distance_km"] is not None

    unknown = live["4a000004"]
    assert (unknown["origin_iata"], unknown["origin_continent"], unknown["distance_km"]) == ("ZZZZ", None, None)

    # The coverage checks count flights carrying either code: 4 origins, 3 of them found; 4 destinations, all found.
    counts = mapping_coverage_counts(silver, refs)
    assert counts["origin_airport"] == (3, 4)
    assert counts["destination_airport"] == (4, 4)
    assert counts["route_distance"] == (3, 4)
    assert counts["origin_continent"] == (3, 4)
