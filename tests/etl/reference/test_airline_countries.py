"""Airline country beyond the airline table: the registrations of the airline's aircraft seen in the snapshot.

Facts written here by hand: real aircraft (registration and ICAO 24-bit address, as the feed reported them in
July 2025) and the ICAO Annex 10 address blocks they fall in: South Korea 718000-71FFFF, Japan 840000-87FFFF,
France 380000-3BFFFF, Norway 478000-47FFFF, Austria 440000-447FFF, United States A00000-AFFFFF, Angola
090000-0903FF, China 780000-7BFFFF (which also holds Hong Kong's B-H/B-K/B-L register), the Netherlands
480000-487FFF (which also holds Aruba's P4- register). The operators' home countries are public facts:
Air Premia (APZ) is Korean, ZIPAIR (TZP) Japanese, French bee (FBU) French, Norsk Luftambulanse (DOC) Norwegian,
CMA CGM Air Cargo (CMA) French, Hong Kong Air Cargo (HKC) of Hong Kong, ASL Airlines Ireland (ABR) Irish.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from etl.core.columns import SILVER_FLIGHTS_SCHEMA
from etl.reference import References
from etl.reference.registrations import registration_countries
from etl.transform.enrich import airline_countries_from_registrations, enrich_live_flights, snapshot_airlines

# airline, ICAO 24-bit address, registration
FLEETS = [
    ("APZ", "71C387", "HL8387"),
    ("APZ", "71C389", "HL8389"),
    ("APZ", "71C516", "HL8516"),
    ("TZP", "86D5BE", "JA822J"),
    ("TZP", "86E036", "JA850J"),
    ("FBU", "39B101", "F-HMIB"),
    ("FBU", "39C498", "F-HREY"),
    ("DOC", "47A2F4", "LN-OOU"),  # one aircraft seen: it decides alone
    ("CMA", "39B221", "F-HMRB"),  # three French aircraft and one US one: 3 of 4 >= two thirds
    ("CMA", "39B225", "F-HMRF"),
    ("CMA", "39B228", "F-HMRI"),
    ("CMA", "AA4230", "N760GT"),
    ("HKC", "780A13", "B-LNZ"),  # China's block, Hong Kong's register
    ("HKC", "780A1E", "B-LNY"),
    ("BFY", "09013C", "D2-BFQ"),  # Angola and Aruba, one each: no majority, no country
    ("BFY", "4850C7", "P4-BFR"),
    ("ABR", "4408FD", "OE-IFB"),  # Irish airline, Austrian-registered 747s: the airline table decides
    ("ABR", "4408FF", "OE-IFD"),
    ("ABR", "440A8C", "OE-IFM"),
    ("AFR", "AA4230", "N760GT"),  # a listed airline with a foreign aircraft: still France
    ("NEW", "71C388", "HL8388"),  # in FR24's list without a country: its registration gives one
]


def test_registration_countries_from_rs1090_then_the_nationality_mark():
    pairs = [
        ("71C389", "HL8389"),
        ("86E036", "JA850J"),
        ("39C498", "F-HREY"),
        ("47a2f4", "LN-OOU"),  # lower case is read too
        ("4408FD", "OE-IFB"),
        ("AA4230", "N760GT"),
        ("780A13", "B-LNZ"),
        ("780A13", ""),  # the same address without its registration: only the block's country is known
        ("10C32270", "RPT-1"),  # a FLARM id (8 hex digits): no ICAO register, and RPT- is no nationality mark
        ("", ""),
        ("", "G-EUUA"),  # no address: the nationality mark
        ("000000", "9H-AMH"),  # an address rs1090 places nowhere ("Unknown"): the nationality mark
        ("10C32270", "D-0042"),  # a glider's FLARM id: its German registration
    ]
    assert [row[2:] for row in registration_countries(pairs)] == [
        ("South Korea", "address"),
        ("Japan", "address"),
        ("France", "address"),
        ("Norway", "address"),
        ("Austria", "address"),
        ("United States", "address"),
        ("Hong Kong", "address"),
        ("China", "address"),
        (None, None),
        (None, None),
        ("United Kingdom", "mark"),
        ("Malta", "mark"),
        ("Germany", "mark"),
    ]


def silver_row(flight_id: str, airline: str, address: str | None, registration: str | None, on_ground: bool = False):
    values: dict[str, object] = {name: None for name in SILVER_FLIGHTS_SCHEMA}
    values.update(
        flight_id=flight_id,
        icao_24bit=address,
        registration=registration,
        latitude=10.0,
        longitude=20.0,
        aircraft_code="B789",
        position_time=datetime(2025, 7, 20, 15, 15),
        airline_icao=airline,
        on_ground=on_ground,
        track_type="aircraft",
        is_aircraft=True,
    )
    return tuple(values.values())


@pytest.fixture(scope="module")
def silver(spark: SparkSession) -> DataFrame:
    rows = [
        silver_row(f"f{i}", airline, address, reg, on_ground=(i % 4 == 0))
        for i, (airline, address, reg) in enumerate(FLEETS)
    ]
    schema = ", ".join(f"{name} {kind}" for name, kind in SILVER_FLIGHTS_SCHEMA.items())
    return spark.createDataFrame(rows, schema)


@pytest.fixture(scope="module")
def refs(spark: SparkSession) -> References:
    airlines = spark.createDataFrame(
        [
            ("AFR", "Air France", "France"),
            ("ABR", "ASL Airlines Ireland", "Ireland"),
            ("NEW", "New Air", None),
        ],
        "airline_icao string, airline_name string, airline_country string",
    )
    empty = spark.createDataFrame(
        [], "iata string, name string, country string, continent string, latitude double, longitude double"
    )
    types = spark.createDataFrame([], "aircraft_code string, manufacturer string, aircraft_model string")
    return References(airports=empty, airlines=airlines, aircraft_types=types, sources={})


def test_snapshot_airlines_table_first_then_registrations(spark: SparkSession, silver: DataFrame, refs: References):
    want = spark.createDataFrame(
        [
            ("ABR", "ASL Airlines Ireland", "Ireland", "table"),
            ("AFR", "Air France", "France", "table"),
            ("APZ", None, "South Korea", "registrations"),
            ("CMA", None, "France", "registrations"),
            ("DOC", None, "Norway", "registrations"),
            ("FBU", None, "France", "registrations"),
            ("HKC", None, "Hong Kong", "registrations"),
            ("NEW", "New Air", "South Korea", "registrations"),
            ("TZP", None, "Japan", "registrations"),
        ],
        "airline_icao string, airline_name string, airline_country string, airline_country_source string",
    )
    # BFY (no majority) has no row: its flights get no name and no country, as an airline no list knows.
    assertDataFrameEqual(snapshot_airlines(silver, refs), want)


def test_registration_table_is_asked_once_per_snapshot(silver: DataFrame, refs: References):
    assert refs.registration_countries(silver) is refs.registration_countries(silver)
    # Only the aircraft of airlines without a table country are asked: not ABR's or AFR's.
    asked = {row["icao_24bit"] for row in refs.registration_countries(silver).collect()}
    assert "4408FD" not in asked and "71C388" in asked and "AA4230" in asked  # AA4230 also flies for CMA


def test_enriched_live_flights_carry_the_country_and_its_source(silver: DataFrame, refs: References):
    live = {
        r["flight_id"]: (r["airline_country"], r["airline_country_source"])
        for r in enrich_live_flights(silver, refs).collect()
    }
    assert live["f1"] == ("South Korea", "registrations")  # APZ, airborne
    assert live["f17"] == ("Ireland", "table")  # ABR, Austrian-registered
    assert live["f15"] == (None, None)  # BFY
    assert "f0" not in live  # on the ground


def test_two_thirds_majority_rule(spark: SparkSession):
    rows = [
        ("TWO", "000001", "Spain"),  # 2 of 3: Spain
        ("TWO", "000002", "Spain"),
        ("TWO", "000003", "Portugal"),
        ("SIX", "000004", "Spain"),  # 3 of 5 (60 %): below two thirds, no country
        ("SIX", "000005", "Spain"),
        ("SIX", "000006", "Spain"),
        ("SIX", "000007", "Malta"),
        ("SIX", "000008", "Malta"),
        ("TIE", "000009", "Chile"),  # 1 of 2: no country
        ("TIE", "00000A", "United States"),
        ("ONE", "00000B", "Norway"),  # 1 of 1
        ("NUL", "00000C", "Japan"),  # an aircraft with no known country does not count
        ("NUL", "00000D", None),
        ("DUP", "00000E", "Italy"),  # one aircraft seen twice counts once: 1 Italian of 2 aircraft
        ("DUP", "00000E", "Italy"),
        ("DUP", "00000F", "Ireland"),
    ]
    aircraft = spark.createDataFrame(
        [(airline, aircraft_id, country, "address" if country else None) for airline, aircraft_id, country in rows],
        "airline_icao string, aircraft_id string, registration_country string, registration_source string",
    )
    want = spark.createDataFrame(
        [("NUL", "Japan", "registrations"), ("ONE", "Norway", "registrations"), ("TWO", "Spain", "registrations")],
        "airline_icao string, registration_country string, registration_source string",
    )
    assertDataFrameEqual(airline_countries_from_registrations(aircraft), want)


def test_the_source_is_registration_marks_only_when_no_address_gave_the_country(spark: SparkSession):
    rows = [
        ("MKS", "reg:G-AAAA", "United Kingdom", "mark"),  # marks alone: registration_marks
        ("MKS", "reg:G-AAAB", "United Kingdom", "mark"),
        ("MIX", "4CA001", "Ireland", "address"),  # one address among the agreeing aircraft: registrations
        ("MIX", "reg:EI-AAA", "Ireland", "mark"),
        ("MIX", "reg:EI-AAB", "Ireland", "mark"),
        ("OUT", "4CA002", "Ireland", "address"),  # the address's country is outvoted: the winners are marks
        ("OUT", "reg:9H-AAA", "Malta", "mark"),
        ("OUT", "reg:9H-AAB", "Malta", "mark"),
    ]
    aircraft = spark.createDataFrame(
        rows, "airline_icao string, aircraft_id string, registration_country string, registration_source string"
    )
    want = spark.createDataFrame(
        [
            ("MIX", "Ireland", "registrations"),
            ("MKS", "United Kingdom", "registration_marks"),
            ("OUT", "Malta", "registration_marks"),
        ],
        "airline_icao string, registration_country string, registration_source string",
    )
    assertDataFrameEqual(airline_countries_from_registrations(aircraft), want)
