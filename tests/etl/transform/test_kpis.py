"""Each gold table on a dozen hand-made flights whose answers are worked out by hand below.

Airports all sit on the equator, so a route's haversine distance is R times its longitude gap in radians:
AAA (France) lon 0, BBB ("FR") lon 1, CCC (United States) lon 90, DDD (Russia -> Europe) lon 179,
EEE (Fiji) lon -179 (DDD -> EEE crosses the antimeridian: 2 degrees, not 358), FFF (Turkey -> Asia) lon 2.
"""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES, RAW_AIRPORT_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.quality.coverage import airline_country_sources, mapping_coverage_counts
from etl.quality.gate import inputs_from_counts
from etl.reference import References, normalise_airports
from etl.transform.kpis import compute_kpis

R = 6371.0088


def km(degrees: float) -> float:
    """Distance along the equator."""
    return R * math.radians(degrees)


# flight id, airline, aircraft code, origin, destination
LIVE = [
    ("f1", "AFR", "A320", "AAA", "BBB"),
    ("f2", "AFR", "A320", "BBB", "AAA"),
    ("f3", "DLH", "B738", "AAA", "BBB"),
    ("f4", "DLH", "B738", "AAA", "CCC"),
    ("f5", "DLH", "A320", "DDD", "EEE"),
    ("f6", "ZZZ", "E190", "AAA", "AAA"),  # unknown airline; origin == destination
    ("f7", None, "QQQQ", "AAA", "XYZ"),  # no airline, unknown type, unknown destination
    ("f8", "AFR", "E190", "FFF", "BBB"),
    ("f9", "DLH", "E190", None, None),
    ("f10", "DLH", "B77W", None, None),
    ("f11", "AFR", "B77W", None, "CCC"),
    ("f12", "AFR", "A320", None, None),
]


def silver_row(flight_id, airline, code, origin, destination, on_ground=False, is_aircraft=True, track="aircraft"):
    values = {name: None for name in SILVER_FLIGHTS_SCHEMA}
    values.update(
        flight_id=flight_id,
        latitude=10.0,
        longitude=20.0,
        aircraft_code=code,
        position_time=datetime(2026, 11, 22, 13, 59),
        origin_iata=origin,
        destination_iata=destination,
        airline_icao=airline,
        on_ground=on_ground,
        callsign=f"CS{flight_id}",
        track_type=track,
        is_aircraft=is_aircraft,
    )
    return tuple(values.values())


@pytest.fixture(scope="module")
def silver(spark: SparkSession) -> DataFrame:
    rows = [silver_row(*flight) for flight in LIVE]
    rows += [
        silver_row("g1", "AFR", "A320", "AAA", "BBB", on_ground=True),  # on the ground
        silver_row("g2", None, "GRND", "AAA", "BBB", is_aircraft=False, track="ground_vehicle"),
        silver_row("g3", "AFR", "A320", "AAA", "BBB", on_ground=None),  # unknown: not counted as airborne
        silver_row("x1", None, "GLID", None, None, track="glider"),  # live, but GLID is no type designator
    ]
    schema = ", ".join(f"{name} {kind}" for name, kind in SILVER_FLIGHTS_SCHEMA.items())
    return spark.createDataFrame(rows, schema)


@pytest.fixture(scope="module")
def refs(spark: SparkSession) -> References:
    raw_airports = [
        ("AAA", "LFAA", "Alpha", "France", "0", "0", "10", "fr24"),
        ("BBB", "LFBB", "Bravo", "FR", "0", "1", "10", "airportsdata"),
        ("CCC", "KCCC", "Charlie", "United States", "0", "90", "10", "fr24"),
        ("DDD", "UDDD", "Delta", "Russia", "0", "179", "10", "fr24"),
        ("EEE", "NEEE", "Echo", "Fiji", "0", "-179", "10", "fr24"),
        ("FFF", "LTFF", "Foxtrot", "Turkey", "0", "2", "10", "fr24"),
    ]
    airports = normalise_airports(
        spark, spark.createDataFrame(raw_airports, ", ".join(f"{c} string" for c in RAW_AIRPORT_COLUMNS))
    )
    airlines = spark.createDataFrame(
        [("AFR", "Air France", "France"), ("DLH", "Lufthansa", "Germany")],
        "airline_icao string, airline_name string, airline_country string",
    )
    types = spark.createDataFrame(
        [
            ("A320", "Airbus", "Airbus A320"),
            ("B738", "Boeing", "Boeing 737-800"),
            ("B77W", "Boeing", "Boeing 777-300ER"),
            ("E190", "Embraer", "Embraer E190"),
        ],
        "aircraft_code string, manufacturer string, aircraft_model string",
    )
    return References(airports=airports, airlines=airlines, aircraft_types=types, sources={})


@pytest.fixture(scope="module")
def gold(silver: DataFrame, refs: References) -> dict[str, DataFrame]:
    return compute_kpis(silver, refs)


def expected(spark: SparkSession, name: str, rows: list[tuple]) -> DataFrame:
    schema = ", ".join(f"{c} {t}" for c, t in GOLD_SCHEMAS[name].items())
    return spark.createDataFrame(rows, schema)


def test_every_table_has_its_exact_schema(gold):
    assert list(gold) == list(GOLD_TABLES)
    for name, table in gold.items():
        assert [(f.name, f.dataType.simpleString()) for f in table.schema.fields] == list(GOLD_SCHEMAS[name].items())


def test_airline_most_live_flights_tie_broken_by_code_and_unknown_airline_kept(spark, gold):
    # AFR and DLH both have 5 live flights: AFR first by code; ZZZ is in no list, so no name.
    rows = [(1, "AFR", "Air France", 5), (2, "DLH", "Lufthansa", 5), (3, "ZZZ", None, 1)]
    assertDataFrameEqual(gold["airline_most_live_flights"], expected(spark, "airline_most_live_flights", rows))


def test_regional_flights_need_both_ends_on_one_continent(spark, gold):
    # Europe -> Europe: f1, f2 (AFR), f3 (DLH), f6 (ZZZ, AAA -> AAA). f4 goes to America, f5 to Oceania, f8 leaves Asia.
    rows = [("Europe", 1, "AFR", "Air France", 2), ("Europe", 2, "DLH", "Lufthansa", 1), ("Europe", 3, "ZZZ", None, 1)]
    name = "airline_most_regional_flights_by_continent"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_longest_flight_across_antimeridian_and_without_round_trips(spark, gold):
    # f5 DDD (179) -> EEE (-179) is 2 degrees; f6 (AAA -> AAA) and flights with an unknown airport are left out.
    rows = [
        (1, "f4", "CSf4", "DLH", "AAA", "CCC", km(90)),
        (2, "f5", "CSf5", "DLH", "DDD", "EEE", km(2)),
        (3, "f1", "CSf1", "AFR", "AAA", "BBB", km(1)),
        (4, "f2", "CSf2", "AFR", "BBB", "AAA", km(1)),
        (5, "f3", "CSf3", "DLH", "AAA", "BBB", km(1)),
        (6, "f8", "CSf8", "AFR", "FFF", "BBB", km(1)),
    ]
    assertDataFrameEqual(gold["longest_live_flight"], expected(spark, "longest_live_flight", rows))


def test_average_distance_by_origin_continent_with_transcontinental_countries(spark, gold):
    # Russia counts as Europe, Turkey as Asia. Europe: f1, f2, f3 (1), f4 (90), f5 (2) -> 95 / 5 = 19 degrees.
    rows = [("Europe", 1, km(19), 5), ("Asia", 2, km(1), 1)]
    name = "average_route_distance_by_continent"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_manufacturers_tie_broken_by_name_unknown_type_left_out(spark, gold):
    rows = [(1, "Airbus", 4), (2, "Boeing", 4), (3, "Embraer", 3)]
    name = "manufacturer_most_live_flights"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_top_three_models_per_airline_country(spark, gold):
    # Germany: 737-800 x2, then A320, 777-300ER, E190 once each: the tie is cut by name, E190 is 4th and dropped.
    rows = [
        ("France", 1, "Airbus A320", 3),
        ("France", 2, "Boeing 777-300ER", 1),
        ("France", 3, "Embraer E190", 1),
        ("Germany", 1, "Boeing 737-800", 2),
        ("Germany", 2, "Airbus A320", 1),
        ("Germany", 3, "Boeing 777-300ER", 1),
    ]
    name = "top_models_by_airline_country"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_most_used_model_by_origin_continent(spark, gold):
    rows = [
        ("Asia", 1, "Embraer E190", 1),
        ("Europe", 1, "Airbus A320", 3),
        ("Europe", 2, "Boeing 737-800", 2),
        ("Europe", 3, "Embraer E190", 1),
    ]
    name = "most_used_model_by_continent"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_airport_flow_imbalance_ranked_by_absolute_difference(spark, gold):
    rows = [
        (1, "AAA", "Alpha", 5, 2, 3),
        (2, "BBB", "Bravo", 1, 3, -2),
        (3, "CCC", "Charlie", 0, 2, -2),
        (4, "DDD", "Delta", 1, 0, 1),
        (5, "EEE", "Echo", 0, 1, -1),
        (6, "FFF", "Foxtrot", 1, 0, 1),
        (7, "XYZ", None, 0, 1, -1),
    ]
    name = "airport_flow_imbalance"
    assertDataFrameEqual(gold[name], expected(spark, name, rows))


def test_mapping_coverage_counts_the_live_flights_carrying_each_code(silver, refs):
    counts = mapping_coverage_counts(silver, refs)
    # 13 live flights (12 + a glider); 8 carry an origin (all known), 9 a destination (XYZ unknown), 8 both; 11 an
    # airline (ZZZ unknown); 12 a type designator (QQQQ unknown; the glider's GLID is none).
    assert counts["_live"] == (13, 13)
    assert counts["origin_airport"] == (8, 8)
    assert counts["destination_airport"] == (8, 9)
    assert counts["route_distance"] == (7, 8)
    assert counts["airline_name"] == (10, 11)
    assert counts["airline_country"] == (10, 11)
    assert counts["aircraft_manufacturer"] == (11, 12)
    assert counts["aircraft_model"] == (11, 12)


def test_mapping_coverage_shares_of_live_flights_carrying_the_code(silver, refs):
    counts = mapping_coverage_counts(silver, refs)
    coverage = inputs_from_counts(
        counts, raw_rows=0, silver_rows=0, quarantine_rows=0, missing_columns=[]
    ).mapping_coverage
    assert coverage["origin_airport"] == pytest.approx(1.0, abs=1e-6)
    assert coverage["destination_airport"] == pytest.approx(8 / 9, abs=1e-6)
    assert coverage["route_distance"] == pytest.approx(7 / 8, abs=1e-6)
    assert coverage["airline_name"] == pytest.approx(10 / 11, abs=1e-6)
    assert coverage["airline_country"] == pytest.approx(10 / 11, abs=1e-6)
    # AFR and DLH from the airline table; ZZZ's aircraft have no known registration (no address in this snapshot).
    assert coverage["airline_country_from_table"] == pytest.approx(10 / 11, abs=1e-6)
    assert coverage["airline_country_from_registrations"] == 0.0
    assert coverage["aircraft_manufacturer"] == pytest.approx(11 / 12, abs=1e-6)
    assert coverage["aircraft_model"] == pytest.approx(11 / 12, abs=1e-6)


def test_airline_country_sources_count_airlines(silver, refs):
    assert airline_country_sources(silver, refs) == {"table": 2, "registrations": 0, "registration_marks": 0, "none": 1}
