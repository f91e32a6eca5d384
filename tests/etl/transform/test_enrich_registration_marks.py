"""A capture without transponder addresses (the shape kata repositories save) passes the quality gate with the
default floors, and Q6 places airlines in their State of registry by their registrations' nationality marks.

The capture is replayed as a user would (snapshot replay of a CSV whose columns are named as those repositories
name them), cleaned, enriched on the job's references (project airline table, airportsdata, and an airlines list
that names operators but gives no country, as FR24's does), and judged by the gate. Facts written here by hand:
registrations as the feed reported them in July 2025, and the operators' States, which their nationality marks
give: G- the United Kingdom (URO's A340-600s), D- Germany (Discover Airlines, OCN), JA Japan (ZIPAIR, TZP), HL
South Korea (Air Premia, APZ), 9H- Malta (AirX, AXY), N the United States (KSF's training aircraft). None of them
is in the project airline table; British Airways (BAW) is, and keeps the table's country.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from etl.core.columns import RAW_AIRLINE_COLUMNS, RAW_COLUMNS
from etl.core.config import QualitySettings
from etl.extract.sources.snapshot import read_snapshot
from etl.quality.coverage import airline_country_sources, mapping_coverage_counts
from etl.quality.gate import evaluate, inputs_from_counts
from etl.reference import load_references
from etl.reference.airlines import AIRLINES
from etl.transform.clean import clean_flights
from etl.transform.kpis import compute_kpis

# company, registration, model, org_iata, dest_iata
FLIGHTS = [
    ("URO", "G-ECLB", "A346", "BOH", "CKG"),
    ("URO", "G-ECLM", "A346", "CTU", "BOH"),
    ("OCN", "D-AIKA", "A333", "FRA", "YYC"),
    ("OCN", "D-AIKB", "A333", "MCO", "FRA"),
    ("TZP", "JA822J", "B788", "NRT", "LAX"),
    ("TZP", "JA824J", "B788", "ICN", "NRT"),
    ("APZ", "HL8387", "B789", "ICN", "EWR"),
    ("APZ", "HL8388", "B789", "LAX", "ICN"),
    ("AXY", "9H-FCM", "E190", "BGR", "MXP"),
    ("KSF", "N95797", "C152", "MHK", "MHK"),
    ("KSF", "N644KS", "PA44", "MHK", "SLN"),
    ("BAW", "G-EUUA", "A320", "LHR", "MAD"),
    ("BAW", "G-EUUB", "A320", "LHR", "CDG"),
    ("ZZZ", "", "A320", "CDG", "LHR"),  # no registration: no country (the one flight the mapping misses)
]
NAMES = {"URO": "URO", "OCN": "Discover Airlines", "TZP": "ZIPAIR Tokyo", "APZ": "Air Premia", "AXY": "AirX"}
NAMES |= {"KSF": "KSF", "BAW": "British Airways", "ZZZ": "ZZZ"}


def _write_capture(path: Path) -> None:
    lines = ["id,lat,lon,org_iata,dest_iata,model,registration,speed,company,on_ground"]
    for i, (company, registration, model, origin, destination) in enumerate(FLIGHTS):
        position = f"{40 + i / 10},{-3 + i / 10}"
        lines.append(f"3c{i:06x},{position},{origin},{destination},{model},{registration},420,{company},0")
    path.write_text("\n".join(lines) + "\n")


def _write_airlines(path: Path) -> None:
    lines = [",".join(RAW_AIRLINE_COLUMNS)] + [f"{icao},,{name},fr24" for icao, name in NAMES.items()]
    path.write_text("\n".join(lines) + "\n")


def test_the_operators_are_not_in_the_airline_table():
    assert {company for company, *_ in FLIGHTS} & set(AIRLINES) == {"BAW"}


@pytest.fixture(scope="module")
def replayed(spark: SparkSession, tmp_path_factory):
    folder = tmp_path_factory.mktemp("no-address")
    _write_capture(folder / "flights_20250720_151519.csv")
    _write_airlines(folder / "airlines.csv")
    snapshot = read_snapshot(str(folder / "flights_20250720_151519.csv"))
    assert "icao_24bit" in snapshot.missing_optional
    raw = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in snapshot.rows], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    cleaned = clean_flights(raw)
    refs = load_references(spark, airports_csv=None, airlines_csv=str(folder / "airlines.csv"))
    return snapshot, cleaned, refs


def test_a_capture_without_addresses_passes_the_gate_with_the_default_floors(replayed):
    snapshot, cleaned, refs = replayed
    inputs = inputs_from_counts(
        mapping_coverage_counts(cleaned.silver, refs),
        raw_rows=len(snapshot.rows),
        silver_rows=cleaned.silver.count(),
        quarantine_rows=cleaned.quarantine.count(),
        missing_columns=snapshot.missing_optional,
    )
    report = evaluate(inputs, QualitySettings())
    assert report.passed, report.one_line()
    assert inputs.mapping_coverage["airline_country"] == pytest.approx(13 / 14, abs=1e-6)
    assert inputs.mapping_coverage["airline_country_from_registration_marks"] == pytest.approx(11 / 14, abs=1e-6)
    assert inputs.mapping_coverage["airline_country_from_registrations"] == 0.0
    assert airline_country_sources(cleaned.silver, refs) == {
        "table": 1,
        "registrations": 0,
        "registration_marks": 6,
        "none": 1,
    }


def test_q6_places_airlines_in_their_state_of_registry(replayed):
    _, cleaned, refs = replayed
    q6 = compute_kpis(cleaned.silver, refs)["top_models_by_airline_country"]
    got = sorted(tuple(r) for r in q6.collect())
    assert got == [
        ("Germany", 1, "Airbus A330-300", 2),
        ("Japan", 1, "Boeing 787-8", 2),
        ("Malta", 1, "Embraer E190", 1),
        ("South Korea", 1, "Boeing 787-9", 2),
        ("United Kingdom", 1, "Airbus A320", 2),  # BAW, from the table; tie with URO's A340-600s, by name
        ("United Kingdom", 2, "Airbus A340-600", 2),
        ("United States", 1, "Cessna 152", 1),
        ("United States", 2, "Piper Seminole", 1),
    ]
