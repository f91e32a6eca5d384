"""Backfill: many slots in one job give each slot exactly its single run's tables; a bad slot fails alone."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from etl import backfill as backfill_module
from etl import pipeline
from etl.backfill import BackfillConfig, backfill, slots_with_files
from etl.cli import main
from etl.columns import GOLD_TABLES, PARTITION_COLUMNS, QUARANTINE_SCHEMA, RAW_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.config import ConfigError, JobConfig
from etl.layout import RunSlot, table_data_dir, table_data_slot, table_partition, table_pointer, table_root
from etl.load import Publication
from etl.manifest import new_run_id
from etl.storage import LocalStorage
from etl.tables import current_files, pointer_text, read_rows, read_table, run_of

pytestmark = pytest.mark.slow

SLOTS = [RunSlot.parse("2026-11-22T10"), RunSlot.parse("2026-11-22T12"), RunSlot.parse("2026-11-22T14")]
OUTSIDE = RunSlot.parse("2026-11-23T00")  # after the backfilled range


def _config(root: Path, slot: RunSlot, seed: int) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=1000, demo_seed=seed).validate()


def _rows(spark, root: Path, layer: str, table: str, slot: RunSlot) -> list[tuple]:
    """The slot's published rows (through its pointer), without the partition columns, in a fixed order.

    Floats to 12 significant digits: an average's sum is added in the order Spark's partitions give, which differs
    between one slot's job and a many-slot job in the last bit (e.g. 1848.0322150493685 vs ...682).
    """
    rows = read_rows(str(root), layer, table, slot)
    return sorted((tuple(_same(v) for v in r.values()) for r in rows), key=repr)


def _same(value):
    return float(f"{value:.12g}") if isinstance(value, float) else value


def _files(root: Path, layer: str, table: str, slot: RunSlot) -> tuple[str, int]:
    """What readers see of the slot: its pointer's text (the files it lists) and the pointer's mtime."""
    pointer = Path(table_pointer(str(root), layer, table, slot))
    return pointer.read_text(), pointer.stat().st_mtime_ns


def _publish(df, root: Path, layer: str, table: str, slot: RunSlot) -> None:
    """Publish `df` as the slot's table through the pointer mechanism, as a run of that slot would."""
    publication = Publication(LocalStorage(), str(root), new_run_id(slot, datetime.now()), slot)
    publication.stage(df, layer, table)
    publication.commit()


def _manifests(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "runs").glob("*.json"))]


@pytest.fixture(scope="module")
def singles(spark, tmp_path_factory):
    """Three scheduled-style runs (different worlds, same day) and one slot outside the range, with their tables."""
    root = tmp_path_factory.mktemp("singles")
    manifests = {}
    for number, slot in enumerate(SLOTS):
        manifests[slot] = pipeline.run(_config(root, slot, seed=100 + number), spark=spark)
    for layer, table in [("silver", "flights"), *(("gold", t) for t in GOLD_TABLES)]:  # a published slot beyond
        _copy_partition(spark, root, root, layer, table, SLOTS[0], OUTSIDE)
    tables = {
        slot: {
            **{("gold", t): _rows(spark, root, "gold", t, slot) for t in GOLD_TABLES},
            ("silver", "flights"): _rows(spark, root, "silver", "flights", slot),
            ("quarantine", "flights"): _rows(spark, root, "quarantine", "flights", slot),
        }
        for slot in SLOTS
    }
    return root, manifests, tables


def test_three_slot_backfill_equals_three_single_runs_row_for_row(spark, singles) -> None:
    root, manifests, expected = singles
    outside_before = {t: _files(root, "gold", t, OUTSIDE) for t in GOLD_TABLES}

    config = BackfillConfig.parse(str(root), "2026-11-22T00", "2026-11-22T23")
    report = backfill(config, spark=spark)

    assert report.slots == SLOTS and report.published == SLOTS and report.failed == {}
    for slot in SLOTS:
        for table in GOLD_TABLES:
            got = _rows(spark, root, "gold", table, slot)
            assert got == expected[slot][("gold", table)], (slot, table)
            assert got, (slot, table)  # each of the demo's tables has rows: the comparison is not of nothing
    assert {t: _files(root, "gold", t, OUTSIDE) for t in GOLD_TABLES} == outside_before
    backfilled = [m for m in _manifests(root) if m["source"] == "backfill"]
    assert sorted(m["run_slot"] for m in backfilled) == [str(s) for s in SLOTS]
    for manifest in backfilled:
        single = manifests[RunSlot.parse(manifest["run_slot"])]
        assert manifest["status"] == "succeeded" and manifest["error"] is None
        assert manifest["counts"]["silver"] == single["counts"]["silver"]
        assert manifest["counts"]["live_flights"] == single["counts"]["live_flights"]
        assert manifest["counts"]["gold"] == single["counts"]["gold"]
        assert manifest["mapping_coverage"] == single["mapping_coverage"]
        assert manifest["counts"]["airline_country_sources"] == single["counts"]["airline_country_sources"]
        # The same gate on the same figures: every check's value, threshold and verdict as the single run's.
        assert manifest["quality"] == single["quality"] and manifest["quality"]["passed"]
        assert manifest["config"]["backfill_id"] == report.backfill_id
    assert not any((root / "_publish" / "backfill").iterdir())  # the scratch, under the job's own prefix, is gone
    assert not any((root / "_publish" / "pending").iterdir())  # every slot's journal was applied and cleared


def test_backfill_from_raw_recleans_silver_and_quarantine_as_single_runs(spark, singles) -> None:
    root, manifests, expected = singles

    config = BackfillConfig.parse(str(root), "2026-11-22T10", "2026-11-22T14", from_raw=True)
    report = backfill(config, spark=spark)

    assert report.published == SLOTS and report.failed == {}
    for slot in SLOTS:
        for key, rows in expected[slot].items():
            assert _rows(spark, root, *key, slot) == rows, (slot, key)
    latest = {m["run_slot"]: m for m in _manifests(root) if m["config"].get("backfill_id") == report.backfill_id}
    for slot in SLOTS:
        counts, single = latest[str(slot)]["counts"], manifests[slot]["counts"]
        assert (counts["raw"], counts["silver"], counts["quarantine"]) == (
            single["raw"],
            single["silver"],
            single["quarantine"],
        )
        assert latest[str(slot)]["cleaning_rules"] == manifests[slot]["cleaning_rules"]


def _copy_partition(
    spark, source: Path, target: Path, layer: str, table: str, slot_from: RunSlot, slot_to: RunSlot
) -> None:
    """Publish a slot's rows of `source` as another slot of `target`."""
    rows = read_table(spark, str(source), layer, table, [slot_from]).drop(*PARTITION_COLUMNS)
    _publish(rows, target, layer, table, slot_to)


def test_unusable_slots_fail_alone_and_the_others_are_published(spark, singles, tmp_path, monkeypatch, capsys) -> None:
    source, _, expected = singles
    root = tmp_path / "lake"
    good_a, good_b = RunSlot.parse("2026-11-01T00"), RunSlot.parse("2026-11-01T04")
    grounded, corrupt = RunSlot.parse("2026-11-01T02"), RunSlot.parse("2026-11-01T06")
    _copy_partition(spark, source, root, "silver", "flights", SLOTS[0], good_a)
    _copy_partition(spark, source, root, "silver", "flights", SLOTS[1], good_b)
    # Every track of this slot is on the ground: silver rows, but not one live flight, so the gate refuses it.
    on_ground = read_table(spark, str(source), "silver", "flights", [SLOTS[2]])
    on_ground = on_ground.withColumn("on_ground", F.lit(True)).select(*SILVER_FLIGHTS_SCHEMA)
    _publish(on_ground, root, "silver", "flights", grounded)
    # The grounded slot was published before: its gold must stay as it was.
    for table in GOLD_TABLES:
        _copy_partition(spark, source, root, "gold", table, SLOTS[2], grounded)
    grounded_before = {t: _files(root, "gold", t, grounded) for t in GOLD_TABLES}
    # This slot's pointer lists one silver file that is not Parquet at all: reading it breaks any job that includes it.
    broken = Path(table_data_dir(str(root), "silver", "flights", corrupt, "20261101T06-20261101T060000Z-000000"))
    broken.mkdir(parents=True)
    (broken / "part-00000-broken.snappy.parquet").write_bytes(b"not a parquet file, truncated upload")
    pointer = Path(table_pointer(str(root), "silver", "flights", corrupt))
    pointer.parent.mkdir(parents=True)
    pointer.write_bytes(pointer_text([str(broken / "part-00000-broken.snappy.parquet")]))
    shutil.copytree(source / "raw" / "reference", root / "raw" / "reference")
    monkeypatch.setattr(pipeline, "build_spark", lambda _config: spark)

    code = main(["backfill", "--data-root", str(root), "--from", "2026-11-01T00", "--to", "2026-11-01T23"])

    out, err = capsys.readouterr()
    assert code == 1
    assert "2 of 4 slots published, 2 failed" in out
    assert "2026-11-01T02: quality gate failed: live_flights (0 live flights (min_live_flights 1))" in err
    assert "2026-11-01T06: " in err
    for published, single in ((good_a, SLOTS[0]), (good_b, SLOTS[1])):
        for table in GOLD_TABLES:
            assert _rows(spark, root, "gold", table, published) == expected[single][("gold", table)], table
    assert {t: _files(root, "gold", t, grounded) for t in GOLD_TABLES} == grounded_before
    assert not Path(table_partition(str(root), "gold", GOLD_TABLES[0], corrupt)).exists()
    assert not Path(table_data_slot(str(root), "gold", GOLD_TABLES[0], corrupt)).exists()
    # The grounded slot's refused run left no data folder: only the run its pointer lists is there.
    grounded_runs = [p.name for p in Path(table_data_slot(str(root), "gold", GOLD_TABLES[0], grounded)).iterdir()]
    assert len(grounded_runs) == 1 and f"/{grounded_runs[0]}/" in grounded_before[GOLD_TABLES[0]][0]
    status = {m["run_slot"]: (m["status"], m["error"]) for m in _manifests(root)}
    assert status["2026-11-01T00"] == ("succeeded", None)
    assert status["2026-11-01T04"] == ("succeeded", None)
    assert status["2026-11-01T02"] == (
        "failed",
        "quality gate failed: live_flights (0 live flights (min_live_flights 1))",
    )
    assert status["2026-11-01T06"][0] == "failed" and "parquet" in status["2026-11-01T06"][1].lower()


def _silver_rows(spark, rows: list[tuple[str, str, str, str, bool]]):
    """Silver rows from (flight_id, airline_icao, origin, destination, on_ground); other columns plain values."""
    base = {name: None for name in SILVER_FLIGHTS_SCHEMA}
    records = []
    for flight_id, airline, origin, destination, ground in rows:
        records.append(
            {
                **base,
                "flight_id": flight_id,
                "latitude": 48.0,
                "longitude": 2.0,
                "aircraft_code": "A320",
                "position_time": datetime(2026, 11, 22, 9, 59),
                "origin_iata": origin,
                "destination_iata": destination,
                "airline_icao": airline,
                "on_ground": ground,
                "callsign": flight_id.upper(),
                "track_type": "aircraft",
                "is_aircraft": True,
            }
        )
    schema = ", ".join(f"`{n}` {t}" for n, t in SILVER_FLIGHTS_SCHEMA.items())
    return spark.createDataFrame([tuple(r[n] for n in SILVER_FLIGHTS_SCHEMA) for r in records], schema)


def test_rankings_restart_in_every_slot(spark, tmp_path) -> None:
    root = tmp_path / "lake"
    first, second = RunSlot.parse("2026-11-22T10"), RunSlot.parse("2026-11-22T12")
    # Slot 10: Air France 3 live flights, Lufthansa 1. Slot 12: Lufthansa 2, Air France 1 (and one on the ground).
    # Over both slots Air France would lead 4 to 3 and FRA-JFK would be the longest flight of both.
    ten = [
        ("a1", "AFR", "CDG", "JFK", False),
        ("a2", "AFR", "CDG", "FRA", False),
        ("a3", "AFR", "LHR", "FRA", False),
        ("a4", "DLH", "FRA", "LHR", False),
    ]
    twelve = [
        ("b1", "DLH", "FRA", "JFK", False),
        ("b2", "DLH", "FRA", "CDG", False),
        ("b3", "AFR", "CDG", "LHR", False),
        ("b4", "AFR", "CDG", "LHR", True),
    ]
    for slot, rows in ((first, ten), (second, twelve)):
        _publish(_silver_rows(spark, rows), root, "silver", "flights", slot)

    report = backfill(BackfillConfig.parse(str(root), "2026-11-22T10", "2026-11-22T12"), spark=spark)

    assert report.published == [first, second]
    q1 = {
        slot: [(r["rank"], r["airline_icao"], r["live_flights"]) for r in _sorted(spark, root, "airline", slot)]
        for slot in (first, second)
    }
    assert q1 == {first: [(1, "AFR", 3), (2, "DLH", 1)], second: [(1, "DLH", 2), (2, "AFR", 1)]}
    longest = {slot: [r["flight_id"] for r in _sorted(spark, root, "longest", slot)] for slot in (first, second)}
    # CDG-JFK about 5,830 km > LHR-FRA about 650 km = FRA-LHR > CDG-FRA about 450 km; ties by flight id.
    assert longest[first] == ["a1", "a3", "a4", "a2"]
    # FRA-JFK about 6,200 km > FRA-CDG about 450 km > CDG-LHR about 350 km.
    assert longest[second] == ["b1", "b2", "b3"]


def _sorted(spark, root: Path, which: str, slot: RunSlot) -> list:
    table = {"airline": "airline_most_live_flights", "longest": "longest_live_flight"}[which]
    return sorted(read_rows(str(root), "gold", table, slot), key=lambda r: r["rank"])


def test_slots_are_found_by_their_pointers_only(tmp_path) -> None:
    root = str(tmp_path)
    silver = table_root(root, "silver", "flights")
    for slot, name in [
        ("2026-10-31T22", "symlink.txt"),  # before the range
        ("2026-11-01T00", "symlink.txt"),
        ("2026-11-01T02", "_SUCCESS"),  # no pointer
        ("2026-12-01T00", "symlink.txt"),
        ("2026-12-01T02", "symlink.txt"),  # after the range
    ]:
        folder = Path(table_partition(root, "silver", "flights", RunSlot.parse(slot)))
        folder.mkdir(parents=True)
        (folder / name).write_bytes(b"x")
    # A run's data folder of a slot never published (a run that failed before its pointer was switched).
    orphan = Path(table_data_dir(root, "silver", "flights", RunSlot.parse("2026-11-05T04"), "20261105T04-x"))
    orphan.mkdir(parents=True)
    (orphan / "part-0.parquet").write_bytes(b"x")

    found = slots_with_files(
        LocalStorage(), silver, RunSlot.parse("2026-11-01T00"), RunSlot.parse("2026-12-01T00"), ("symlink.txt",)
    )

    assert [str(s) for s in found] == ["2026-11-01T00", "2026-12-01T00"]


def test_bad_ranges_stop_before_any_work(tmp_path, capsys) -> None:
    with pytest.raises(ConfigError, match="backfill range is empty: from 2026-11-02T00 is after to 2026-11-01T00"):
        BackfillConfig.parse(str(tmp_path), "2026-11-02T00", "2026-11-01T00")
    assert main(["backfill", "--data-root", str(tmp_path), "--from", "2026-11-01", "--to", "2026-11-02T00"]) == 2
    assert "run slot '2026-11-01' is not of the form YYYY-MM-DDTHH" in capsys.readouterr().err
    assert main(["backfill", "--data-root", str(tmp_path), "--from", "2026-11-01T00", "--to", "2026-11-02T00"]) == 1
    assert "no slot between 2026-11-01T00 and 2026-11-02T00 has silver under" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def _quarantined(spark, count: int):
    """`count` quarantine rows (raw text and the rule that refused it)."""
    schema = ", ".join(f"`{n}` {t}" for n, t in QUARANTINE_SCHEMA.items())
    rows = [(*(f"q{i}" if n == "id" else None for n in RAW_COLUMNS), "unreadable_time") for i in range(count)]
    return spark.createDataFrame(rows, schema)


def test_each_slot_meets_the_scheduled_runs_quality_gate(spark, tmp_path, monkeypatch, capsys) -> None:
    root = tmp_path / "lake"
    good, unknown_airlines, quarantined, no_types = (RunSlot.parse(f"2026-11-01T{h:02d}") for h in (0, 2, 4, 6))
    known = [
        ("g1", "AFR", "CDG", "JFK", False),
        ("g2", "DLH", "FRA", "LHR", False),
        ("g3", "AFR", "CDG", "FRA", False),
        ("g4", "DLH", "FRA", "CDG", False),
    ]
    for slot in (good, quarantined, no_types):
        _publish(_silver_rows(spark, known), root, "silver", "flights", slot)
    # Two of four live flights fly for an airline no reference knows (and no registration tells): 50 % of the
    # airline-coded flights resolve a name and a country, below both 75 % floors.
    unknown = [("u1", "AFR", "CDG", "JFK", False), ("u2", "DLH", "FRA", "LHR", False)]
    unknown += [("u3", "QQQ", "CDG", "FRA", False), ("u4", "QQQ", "FRA", "CDG", False)]
    _publish(_silver_rows(spark, unknown), root, "silver", "flights", unknown_airlines)
    # One row quarantined beside 4 silver rows: 1 of the raw's 5 rows, 20 % > 5 %.
    _publish(_quarantined(spark, 1), root, "quarantine", "flights", quarantined)
    # The run that published this slot replayed a capture without aircraft types: Q5, Q6 and Q6' lack their input.
    run_id = run_of(current_files(LocalStorage(), str(root), "silver", "flights", no_types))
    (root / "runs").mkdir()
    (root / "runs" / f"{run_id}.json").write_text(
        json.dumps({"extraction": {"snapshot_missing_optional": ["aircraft_code"]}})
    )
    monkeypatch.setattr(pipeline, "build_spark", lambda _config: spark)
    command = ["backfill", "--data-root", str(root), "--from", "2026-11-01T00", "--to", "2026-11-01T06"]

    assert main(command) == 1

    out, err = capsys.readouterr()
    assert "1 of 4 slots published, 3 failed" in out
    failed = {m["run_slot"]: m["quality"]["failed"] for m in _manifests(root) if m.get("source") == "backfill"}
    assert failed == {
        "2026-11-01T00": [],
        "2026-11-01T02": ["coverage:airline_name", "coverage:airline_country"],
        "2026-11-01T04": ["quarantine_share"],
        "2026-11-01T06": ["inputs:Q5", "inputs:Q6", "inputs:Q6'"],
    }
    assert "2026-11-01T04: quality gate failed: quarantine_share (1 of 5 rows quarantined (20.0% > " in err
    assert not Path(table_pointer(str(root), "gold", GOLD_TABLES[0], unknown_airlines)).exists()

    # Asked to, the backfill publishes them as degraded, as `etl run --allow-degraded` does; the missing columns
    # were carried into the backfill's manifest, so a second backfill judges the slot the same.
    assert main([*command, "--allow-degraded"]) == 0

    out, err = capsys.readouterr()
    assert "4 of 4 slots published (3 degraded), 0 failed" in out
    assert "degraded: 2026-11-01T06: quality gate failed: inputs:Q5 (Q5 needs aircraft_code" in err
    latest = {m["run_slot"]: m for m in _manifests(root) if m.get("source") == "backfill"}
    assert {s: m["status"] for s, m in latest.items()} == {
        "2026-11-01T00": "succeeded",
        "2026-11-01T02": "degraded",
        "2026-11-01T04": "degraded",
        "2026-11-01T06": "degraded",
    }
    assert latest["2026-11-01T06"]["extraction"] == {"snapshot_missing_optional": ["aircraft_code"]}
    q1 = [(r["airline_icao"], r["live_flights"]) for r in _sorted(spark, root, "airline", unknown_airlines)]
    assert sorted(q1, key=repr) == [("AFR", 1), ("DLH", 1), ("QQQ", 2)]


class _GroupsRun:
    """Stands in for a backfill's compute step: a group fails when it holds a bad slot; records every group tried."""

    def __init__(self, bad: set[str]) -> None:
        self.bad, self.groups = bad, []

    def compute(self, slots):
        self.groups.append([str(s)[-2:] for s in slots])
        broken = [str(s) for s in slots if str(s) in self.bad]
        if broken:
            raise RuntimeError(f"cannot read {broken[0]}")
        return {s: (backfill_module.SlotFigures(), {}) for s in slots}


def test_a_failing_group_is_halved_until_its_bad_slot_stands_alone() -> None:
    slots = [RunSlot.parse(f"2026-11-01T{h:02d}") for h in (0, 2, 4, 6)]
    run = _GroupsRun(bad={"2026-11-01T04"})

    done, failed = backfill_module._compute_isolating(run, slots)

    assert run.groups == [["00", "02", "04", "06"], ["00", "02"], ["04", "06"], ["04"], ["06"]]
    assert sorted(str(s) for s in done) == ["2026-11-01T00", "2026-11-01T02", "2026-11-01T06"]
    assert failed == {slots[2]: "RuntimeError: cannot read 2026-11-01T04"}


def test_two_slots_failing_alone_before_any_success_stop_the_backfill() -> None:
    slots = [RunSlot.parse(f"2026-11-01T{h:02d}") for h in (0, 2, 4, 6)]
    run = _GroupsRun(bad={str(s) for s in slots})  # e.g. the data root cannot be read at all

    with pytest.raises(backfill_module.BackfillAborted) as caught:
        backfill_module._compute_isolating(run, slots)

    assert str(caught.value) == (
        "slots 2026-11-01T00, 2026-11-01T02 each failed alone and none succeeded: "
        "RuntimeError: cannot read 2026-11-01T02"
    )
    assert run.groups == [["00", "02", "04", "06"], ["00", "02"], ["00"], ["02"]]
