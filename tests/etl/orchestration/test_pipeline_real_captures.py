"""Every real capture of ../shared/samples/fr24 still succeeds, through the quality gate, with the answers it had.

ANSWERS_BEFORE was recorded by running the job of the commit before the quality gate (and before column aliases and
the new timestamp readings), with today's reference data (country_converter's continents, airline countries from
registrations, the ICAO type list), on each file, one run per file: live flights, then each KPI's rank-1 row, in
DESIGN.md order (Q1, Q2, Q3, Q4, Q5, Q6, Q6', bonus); for a per-group table the group whose rank-1 row counts the
most flights (ties by group name). None: the table is empty (the 10-row captures hold gliders, balloons and two
grounded freighters only: no live flight carries an airline, a route or a type designator). A reference list that
grows changes these facts: record them again then (the reference data of the commit before it gave, for example,
THY 28 regional flights in Asia in flights_20250719_084941.csv; today's give 30).
"""

from __future__ import annotations

import pytest

from etl.core.config import JobConfig
from etl.core.layout import RunSlot
from etl.core.storage import storage_for
from etl.extract import extract_to_raw
from etl.orchestration.backfill import BackfillConfig, backfill
from etl.publication.manifest import read_manifests
from tests.etl.lakes import current_rows
from tests.paths import SAMPLES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples/fr24 is not beside the repository"),
]

# table, group column (per-group tables), weight column, the columns compared
SPEC = [
    ("airline_most_live_flights", None, None, ("airline_icao", "live_flights")),
    (
        "airline_most_regional_flights_by_continent",
        "continent",
        "regional_flights",
        ("continent", "airline_icao", "regional_flights"),
    ),
    ("longest_live_flight", None, None, ("flight_id", "origin_iata", "destination_iata", "distance_km")),
    ("average_route_distance_by_continent", None, None, ("continent", "avg_distance_km", "flights")),
    ("manufacturer_most_live_flights", None, None, ("manufacturer", "live_flights")),
    (
        "top_models_by_airline_country",
        "airline_country",
        "live_flights",
        ("airline_country", "aircraft_model", "live_flights"),
    ),
    ("most_used_model_by_continent", "continent", "live_flights", ("continent", "aircraft_model", "live_flights")),
    ("airport_flow_imbalance", None, None, ("airport_iata", "outgoing", "incoming", "difference")),
]

ANSWERS_BEFORE: dict[str, tuple[int, list[tuple | None]]] = {
    "flights_20250719_084941.csv": (
        1344,
        [
            ("UAL", 73),
            ("Asia", "THY", 30),
            ("3b524a7b", "JFK", "SIN", 15340.6),
            ("Asia", 7857.8, 392),
            ("Boeing", 760),
            ("United States", "Boeing 787-9", 33),
            ("North America", "Boeing 787-9", 78),
            ("LHR", 11, 88, -77),
        ],
    ),
    "flights_20250719_125747.csv": (
        1339,
        [
            ("QTR", 92),
            ("North America", "UAL", 18),
            ("3b524a7b", "JFK", "SIN", 15340.6),
            ("Oceania", 8193.0, 70),
            ("Boeing", 715),
            ("United Arab Emirates", "Airbus A380-800", 39),
            ("Asia", "Boeing 777-300ER", 117),
            ("LHR", 2, 73, -71),
        ],
    ),
    "flights_20250719_133601.csv": (
        1336,
        [
            ("QTR", 100),
            ("North America", "UAL", 15),
            ("3b524a7b", "JFK", "SIN", 15340.6),
            ("North America", 8620.2, 303),
            ("Boeing", 692),
            ("United Arab Emirates", "Boeing 777-300ER", 33),
            ("Asia", "Boeing 777-300ER", 117),
            ("LHR", 6, 67, -61),
        ],
    ),
    "flights_20250720_102010.csv": (
        1338,
        [
            ("UAL", 73),
            ("Asia", "THY", 26),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("Oceania", 8143.6, 81),
            ("Boeing", 777),
            ("United States", "Boeing 787-9", 33),
            ("Asia", "Boeing 777-300ER", 76),
            ("LHR", 18, 81, -63),
        ],
    ),
    "flights_20250720_102150.csv": (
        1342,
        [
            ("UAL", 75),
            ("Asia", "THY", 25),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("Oceania", 8135.9, 81),
            ("Boeing", 780),
            ("United States", "Boeing 787-9", 34),
            ("Asia", "Boeing 777-300ER", 76),
            ("LHR", 18, 82, -64),
        ],
    ),
    "flights_20250720_103237.csv": (
        1335,
        [
            ("UAL", 76),
            ("Asia", "THY", 25),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("Oceania", 8183.9, 78),
            ("Boeing", 781),
            ("United States", "Boeing 787-9", 35),
            ("Asia", "Boeing 777-300ER", 77),
            ("LHR", 13, 81, -68),
        ],
    ),
    "flights_20250720_123810.csv": (
        1339,
        [
            ("QTR", 90),
            ("North America", "UAL", 19),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("Oceania", 8263.1, 76),
            ("Boeing", 768),
            ("United Arab Emirates", "Boeing 777-300ER", 43),
            ("Asia", "Boeing 777-300ER", 116),
            ("LHR", 4, 79, -75),
        ],
    ),
    "flights_20250720_151519.csv": (
        1388,
        [
            ("QTR", 63),
            ("Asia", "UAE", 11),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("North America", 9503.4, 242),
            ("Boeing", 619),
            ("United Arab Emirates", "Boeing 777-300ER", 30),
            ("Asia", "Boeing 777-300ER", 91),
            ("LHR", 20, 54, -34),
        ],
    ),
    "flights_20250720_151628.csv": (
        1390,
        [
            ("QTR", 63),
            ("Asia", "UAE", 11),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("North America", 9554.2, 238),
            ("Boeing", 619),
            ("United Arab Emirates", "Boeing 777-300ER", 30),
            ("Asia", "Boeing 777-300ER", 91),
            ("LHR", 20, 53, -33),
        ],
    ),
    "flights_20250720_151713.csv": (
        1389,
        [
            ("QTR", 63),
            ("Asia", "UAE", 11),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("North America", 9575.2, 237),
            ("Boeing", 616),
            ("United Arab Emirates", "Boeing 777-300ER", 30),
            ("Asia", "Boeing 777-300ER", 91),
            ("LHR", 20, 53, -33),
        ],
    ),
    "flights_20250720_151959.csv": (
        1395,
        [
            ("QTR", 62),
            ("Asia", "UAE", 11),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("North America", 9600.9, 235),
            ("Boeing", 615),
            ("United Arab Emirates", "Boeing 777-300ER", 30),
            ("Asia", "Boeing 777-300ER", 92),
            ("LHR", 20, 53, -33),
        ],
    ),
    "flights_20250720_152707.csv": (
        1401,
        [
            ("QTR", 58),
            ("Asia", "UAE", 11),
            ("3b55ef74", "JFK", "SIN", 15340.6),
            ("North America", 9743.1, 225),
            ("Boeing", 610),
            ("United Arab Emirates", "Boeing 777-300ER", 30),
            ("Asia", "Boeing 777-300ER", 92),
            ("ICN", 51, 19, 32),
        ],
    ),
    "flights_20250720_173227.csv": (
        5,
        [None] * 8,
    ),
    "flights_20250720_173359.csv": (
        4,
        [None] * 8,
    ),
    "flights_20250721_201243.csv": (
        1371,
        [
            ("UAL", 71),
            ("Asia", "QTR", 8),
            ("3b596766", "JFK", "SIN", 15340.6),
            ("Oceania", 9987.2, 60),
            ("Boeing", 682),
            ("United States", "Boeing 777-200", 31),
            ("Europe", "Airbus A350-900", 81),
            ("CDG", 65, 4, 61),
        ],
    ),
}


def _answers(spark, root: str, slot: RunSlot) -> list[tuple | None]:
    found: list[tuple | None] = []
    for table, group, weight, columns in SPEC:
        rows = [r for r in current_rows(root, table, slot) if r["rank"] == 1]
        if not rows:
            found.append(None)
            continue
        best = min(rows, key=lambda r: (-r[weight], r[group])) if group else rows[0]
        found.append(tuple(round(best[c], 1) if isinstance(best[c], float) else best[c] for c in columns))
    return found


def test_every_real_capture_passes_the_gate_with_the_same_answers(spark, tmp_path) -> None:
    assert sorted(p.name for p in SAMPLES.glob("flights_*.csv")) == sorted(ANSWERS_BEFORE)
    root = str(tmp_path)
    # Each capture lands as a scheduled run lands it (`etl extract --snapshot`), one slot each; then the whole set
    # goes through the scheduled run's own orchestration in one Spark job (a backfill from raw), each slot gated
    # and published on its own.
    slots = {}
    for hour, name in enumerate(sorted(ANSWERS_BEFORE)):
        slot = RunSlot.parse(f"2025-07-01T{hour:02d}")
        config = JobConfig(data_root=root, run_slot=slot, source="snapshot", snapshot_path=str(SAMPLES / name))
        extract_to_raw(config.validate(), storage_for(root))
        slots[slot] = name
    first, last = min(slots), max(slots)

    report = backfill(BackfillConfig.parse(root, str(first), str(last), from_raw=True), spark=spark)

    assert report.failed == {} and report.published == sorted(slots)
    manifests = {RunSlot.parse(m["run_slot"]): m for m in read_manifests(storage_for(root), root)}
    for slot, name in slots.items():
        live_flights, answers = ANSWERS_BEFORE[name]
        manifest = manifests[slot]
        assert manifest["status"] == "succeeded", (name, manifest["quality"]["failed"])
        assert manifest["quality"]["passed"] is True, name
        assert manifest["counts"]["live_flights"] == live_flights, name
        assert _answers(spark, root, slot) == answers, name
