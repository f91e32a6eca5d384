"""The quality gate on whole runs of small captures written here: what is published, what is kept, what is said.

The six flights of GOOD are worked out by hand (airports, airlines and types all known to the references):
  AFR A320 CDG->FRA, AFR A320 CDG->MAD, DLH A320 FRA->CDG, AFR B77W CDG->JFK, DLH A359 FRA->JFK, DAL B738 JFK->LAX.
Q1 AFR (3); Q2 Europe AFR (2 regional), North America DAL (1); Q3 FRA->JFK (the longest of the three long routes:
FRA is east of CDG); Q4 North America first (JFK->LAX ~3,980 km against Europe's mix of short hops and two
Atlantic crossings, ~2,800 km); Q5 Airbus (4); Q6 France: Airbus A320 (2), Germany: Airbus A320 (1, tied with the
A350-900, first by name), United States: Boeing 737-800 (1); Q6' Europe: Airbus A320 (3), North America:
Boeing 737-800 (1); bonus CDG (3 out, 1 in: +2).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.cli import main
from etl.core.columns import FLIGHT_FIELDS, GOLD_TABLES
from etl.core.config import JobConfig, QualitySettings
from etl.core.layout import RunSlot
from etl.orchestration import pipeline
from etl.presentation.show import render_slot
from tests.etl.lakes import current_rows, data_rows

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2024-04-18T16")
OTHER = RunSlot.parse("2024-04-18T18")
# flight id, airline, type, origin, destination
GOOD = [
    ("a1", "AFR", "A320", "CDG", "FRA"),
    ("a2", "AFR", "A320", "CDG", "MAD"),
    ("a3", "DLH", "A320", "FRA", "CDG"),
    ("a4", "AFR", "B77W", "CDG", "JFK"),
    ("a5", "DLH", "A359", "FRA", "JFK"),
    ("a6", "DAL", "B738", "JFK", "LAX"),
]
CAPTURED = datetime(2024, 4, 18, 17, 17, 22, tzinfo=timezone.utc)

EXPECTED_RANK_1 = {
    "airline_most_live_flights": {("AFR", 3)},
    "airline_most_regional_flights_by_continent": {("Europe", "AFR", 2), ("North America", "DAL", 1)},
    "longest_live_flight": {("a5", "FRA", "JFK")},
    "average_route_distance_by_continent": {("North America", 1)},
    "manufacturer_most_live_flights": {("Airbus", 4)},
    "top_models_by_airline_country": {
        ("France", "Airbus A320", 2),
        ("Germany", "Airbus A320", 1),
        ("United States", "Boeing 737-800", 1),
    },
    "most_used_model_by_continent": {("Europe", "Airbus A320", 3), ("North America", "Boeing 737-800", 1)},
    "airport_flow_imbalance": {("CDG", 3, 1, 2)},
}
KEYS = {
    "airline_most_live_flights": ("airline_icao", "live_flights"),
    "airline_most_regional_flights_by_continent": ("continent", "airline_icao", "regional_flights"),
    "longest_live_flight": ("flight_id", "origin_iata", "destination_iata"),
    "average_route_distance_by_continent": ("continent", "flights"),
    "manufacturer_most_live_flights": ("manufacturer", "live_flights"),
    "top_models_by_airline_country": ("airline_country", "aircraft_model", "live_flights"),
    "most_used_model_by_continent": ("continent", "aircraft_model", "live_flights"),
    "airport_flow_imbalance": ("airport_iata", "outgoing", "incoming", "difference"),
}


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return str(path)


def _good_rows(time_text: str) -> list[list[str]]:
    # id, latitude, longitude, on_ground, time, airline, type, origin, destination
    return [[f, "48.0", "5.0", "0", time_text, a, t, o, d] for f, a, t, o, d in GOOD]


def _run(spark, root: Path, capture: str, slot: RunSlot = SLOT, **quality) -> dict:
    config = JobConfig(
        data_root=str(root),
        run_slot=slot,
        source="snapshot",
        snapshot_path=capture,
        quality=QualitySettings(**quality),
    ).validate()
    return pipeline.run(config, spark=spark)


def _rank_1(spark, root: Path, slot: RunSlot = SLOT) -> dict[str, set[tuple]]:
    answers = {}
    for table in GOLD_TABLES:
        rows = [r for r in current_rows(str(root), table, slot) if r["rank"] == 1]
        answers[table] = {tuple(r[k] for k in KEYS[table]) for r in rows}
    return answers


def _every_row(spark, root: Path, slot: RunSlot) -> dict[str, list[tuple]]:
    return {
        table: data_rows(str(root), table, slot) for table in (*GOLD_TABLES, "silver_flights", "quarantine_flights")
    }


def _manifests(root: Path) -> list[dict]:
    found = [json.loads(p.read_text()) for p in (root / "runs").glob("*.json")]
    return sorted(found, key=lambda m: (m["started_at"], m["run_id"]))


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """A good run of SLOT from a capture spelled as kata repositories publish it (origin/destination, ...)."""
    root = tmp_path_factory.mktemp("gate")
    header = ["id", "latitude", "longitude", "on_ground", "time", "company", "model", "origin", "destination"]
    capture = _csv(root / "flights_20240418_171722.csv", header, _good_rows("1713460642"))
    manifest = _run(spark, root, capture)
    return root, manifest


def test_renamed_columns_are_mapped_and_answer_all_eight_questions(spark, lake) -> None:
    root, manifest = lake
    assert manifest["status"] == "succeeded"
    assert manifest["extraction"]["snapshot_renamed_columns"] == {
        "company": "airline_icao",
        "destination": "destination_airport_iata",
        "model": "aircraft_code",
        "origin": "origin_airport_iata",
    }
    assert manifest["quality"]["passed"] is True and manifest["quality"]["failed"] == []
    # The gate's 20 checks of the slot's own figures, then the volume check against the runs before it.
    assert len(manifest["quality"]["checks"]) == 21 and manifest["quality"]["checks"][-1]["name"] == "volume"
    assert _rank_1(spark, root) == EXPECTED_RANK_1


def test_an_all_unusable_capture_fails_the_gate_and_keeps_the_good_run(spark, lake, tmp_path, capsys) -> None:
    root, good = lake
    before = _every_row(spark, root, SLOT)
    header = ["id", "latitude", "longitude", "on_ground", "time", "company", "model", "origin", "destination"]
    bad = _csv(tmp_path / "flights_20240418_171722.csv", header, _good_rows("yesterday"))

    code = main(["run", "--snapshot", bad, "--data-root", str(root), "--run-slot", str(SLOT)])

    assert code == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith(
        "error: QualityGateError: quality gate failed: silver_rows (0 usable rows of 6 (min_silver_rows 1)); "
        "live_flights (0 live flights (min_live_flights 1)); quarantine_share (6 of 6 rows quarantined "
        "(100.0% > max_quarantine_share 5.0%))"
    )
    assert "quality checks (value vs threshold); nothing was published:" in err
    assert _every_row(spark, root, SLOT) == before
    failed = _manifests(root)[-1]
    assert failed["status"] == "failed"
    assert failed["error"] == first.removeprefix("error: ")
    assert failed["quality"]["failed"][:3] == ["silver_rows", "live_flights", "quarantine_share"]
    silver_check = failed["quality"]["checks"][0]
    assert silver_check == {
        "name": "silver_rows",
        "value": 0.0,
        "threshold": 1.0,
        "passed": False,
        "detail": "0 usable rows of 6 (min_silver_rows 1)",
    }
    assert failed["counts"]["quarantine"] == 6 and failed["cleaning_rules"]["bad_timestamp"] == 6
    # `show` still reads the good run, the latest published one.
    assert f"run {good['run_id']}: succeeded" in render_slot(str(root), SLOT)


def test_unknown_spellings_fail_naming_the_columns_then_allow_degraded_publishes(spark, lake, tmp_path) -> None:
    root, _ = lake
    header = ["id", "latitude", "longitude", "on_ground", "time", "company", "model", "from", "to"]
    capture = _csv(tmp_path / "flights_20240418_181722.csv", header, _good_rows("1713460642"))

    with pytest.raises(pipeline.QualityGateError) as raised:
        _run(spark, root, capture, OTHER)
    message = str(raised.value)
    assert "inputs:Q2 (Q2 needs origin_airport_iata: absent from the capture; Q2 needs destination_airport_iata" in (
        message
    )
    assert raised.value.report.failed_names == ["inputs:Q2", "inputs:Q3", "inputs:Q4", "inputs:Q6'", "inputs:Bonus"]
    assert current_rows(str(root), "airline_most_live_flights", OTHER) == []
    refused = _manifests(root)[-1]
    assert refused["extraction"]["snapshot_ignored_columns"] == ["from", "to"]

    degraded = _run(spark, root, capture, OTHER, allow_degraded=True)

    assert degraded["status"] == "degraded"
    assert degraded["quality"]["allow_degraded"] is True
    assert degraded["quality"]["failed"] == refused["quality"]["failed"]
    answers = _rank_1(spark, root, OTHER)
    assert answers["airline_most_live_flights"] == {("AFR", 3)}  # what does not need airports still answers
    assert answers["longest_live_flight"] == set()
    shown = render_slot(str(root), OTHER)
    assert f"DEGRADED run {degraded['run_id']}: published although the quality gate failed" in shown
    assert "failed checks: inputs:Q2, inputs:Q3, inputs:Q4, inputs:Q6', inputs:Bonus" in shown


def test_date_time_text_answers_all_eight_questions(spark, tmp_path) -> None:
    header = ["id", "latitude", "longitude", "on_ground", "time", "airline_icao", "aircraft_code"]
    header += ["origin_airport_iata", "destination_airport_iata"]
    capture = _csv(tmp_path / "capture.csv", header, _good_rows("2024-04-18 17:17:22"))
    manifest = _run(spark, tmp_path, capture)
    assert manifest["status"] == "succeeded"
    assert manifest["capture_time"] == "2024-04-18T17:17:22Z"
    assert manifest["cleaning_rules"]["bad_timestamp"] == 0
    assert _rank_1(spark, tmp_path) == EXPECTED_RANK_1


def test_a_parquet_timestamp_answers_all_eight_questions(spark, tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*[(f, 48.0, 5.0, False, CAPTURED, a, t, o, d) for f, a, t, o, d in GOOD], strict=True))
    names = ["id", "latitude", "longitude", "on_ground", "time", "airline_icao", "aircraft_code"]
    names += ["origin_airport_iata", "destination_airport_iata"]
    arrays = {n: list(c) for n, c in zip(names, columns, strict=True)}
    table = pa.table({**arrays, "time": pa.array(arrays["time"], pa.timestamp("ms", tz="UTC"))})
    capture = tmp_path / "capture.parquet"
    pq.write_table(table, capture)

    manifest = _run(spark, tmp_path, str(capture))

    assert manifest["status"] == "succeeded"
    assert manifest["capture_time"] == "2024-04-18T17:17:22Z"
    assert _rank_1(spark, tmp_path) == EXPECTED_RANK_1
    times = current_rows(str(tmp_path), "silver_flights", SLOT, ["position_time"])
    assert {r["position_time"] for r in times} == {CAPTURED}  # Spark timestamps are UTC instants in Iceberg


def test_a_one_row_capture_never_replaces_a_published_slot_of_many(spark, tmp_path) -> None:
    root = tmp_path / "lake"
    good = pipeline.run(
        JobConfig(data_root=str(root), run_slot=SLOT, source="demo", demo_flights=1500).validate(), spark=spark
    )
    before = {t: data_rows(str(root), t, SLOT) for t in GOLD_TABLES}
    # One airborne flight of the same day, as a capture cut down to its first row would give.
    capture = tmp_path / "one.csv"
    row = {
        **dict.fromkeys(FLIGHT_FIELDS, ""),
        **{"id": "x1", "latitude": "48.9", "longitude": "2.4", "on_ground": "0", "aircraft_code": "A320"},
        **{"airline_icao": "AFR", "origin_airport_iata": "CDG", "destination_airport_iata": "JFK"},
        **{"time": str(int(CAPTURED.timestamp())), "callsign": "AFR1", "registration": "F-HBNA", "number": "AF1"},
    }
    capture.write_text(",".join(FLIGHT_FIELDS) + "\n" + ",".join(row[f] for f in FLIGHT_FIELDS) + "\n")

    with pytest.raises(pipeline.QualityGateError) as refused:
        _run(spark, root, str(capture))

    assert refused.value.report.failed_names == ["volume"]
    (volume,) = [c for c in refused.value.report.checks if c.name == "volume"]
    assert volume.value == round(1 / good["counts"]["live_flights"], 6) and volume.threshold == 0.5
    assert {t: data_rows(str(root), t, SLOT) for t in GOLD_TABLES} == before  # the good slot, untouched

    degraded = _run(spark, root, str(capture), allow_degraded=True)  # asked for: published, and says so
    assert degraded["status"] == "degraded" and degraded["quality"]["failed"] == ["volume"]
