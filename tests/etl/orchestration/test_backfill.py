"""Backfill: many slots in one job give each slot exactly its single run's tables; a bad slot fails alone."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.cli import main
from etl.core.columns import GOLD_TABLES, SILVER_FLIGHTS_SCHEMA
from etl.core.config import ConfigError, JobConfig, QualitySettings
from etl.core.layout import RunSlot
from etl.core.storage import LocalStorage
from etl.orchestration import backfill as backfill_module
from etl.orchestration import pipeline
from etl.orchestration.backfill import BackfillAborted, BackfillConfig, backfill
from etl.publication.publish import repair
from tests.etl.lakes import current_rows, data_rows, publish_rows, runs_of

pytestmark = pytest.mark.slow

SLOTS = [RunSlot.parse("2026-11-22T10"), RunSlot.parse("2026-11-22T12"), RunSlot.parse("2026-11-22T14")]
OUTSIDE = RunSlot.parse("2026-11-23T00")  # after the backfilled range


def _config(root: Path, slot: RunSlot, seed: int, flights: int = 1000) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=flights, demo_seed=seed).validate()


def _checks(manifest: dict) -> list[dict]:
    return [c for c in manifest["quality"]["checks"] if c["name"] != "volume"]


def _manifests(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "runs").glob("*.json"))]


@pytest.fixture(scope="module")
def singles(spark, tmp_path_factory):
    """Three scheduled-style runs (different worlds, same day) and one slot outside the range, with their tables."""
    root = tmp_path_factory.mktemp("singles")
    manifests = {}
    for number, slot in enumerate([*SLOTS, OUTSIDE]):
        manifests[slot] = pipeline.run(_config(root, slot, seed=100 + number), spark=spark)
    tables = {
        slot: {t: data_rows(str(root), t, slot) for t in (*GOLD_TABLES, "silver_flights", "quarantine_flights")}
        for slot in SLOTS
    }
    return root, manifests, tables


def test_three_slot_backfill_equals_three_single_runs_row_for_row(spark, singles) -> None:
    root, manifests, expected = singles
    outside_before = {t: (data_rows(str(root), t, OUTSIDE), runs_of(str(root), t, OUTSIDE)) for t in GOLD_TABLES}

    report = backfill(BackfillConfig.parse(str(root), "2026-11-22T00", "2026-11-22T23"), spark=spark)

    assert report.slots == SLOTS and report.published == SLOTS and report.failed == {}
    backfilled = {RunSlot.parse(m["run_slot"]): m for m in _manifests(root) if m["source"] == "backfill"}
    assert sorted(backfilled) == SLOTS
    for slot in SLOTS:
        for table in GOLD_TABLES:
            got = data_rows(str(root), table, slot)
            assert got == expected[slot][table], (slot, table)
            assert got, (slot, table)  # each of the demo's tables has rows: the comparison is not of nothing
            assert runs_of(str(root), table, slot) == {backfilled[slot]["run_id"]}
        # Silver was read, not rewritten: it is still the single run's.
        assert runs_of(str(root), "silver_flights", slot) == {manifests[slot]["run_id"]}
    assert {
        t: (data_rows(str(root), t, OUTSIDE), runs_of(str(root), t, OUTSIDE)) for t in GOLD_TABLES
    } == outside_before
    for slot, manifest in backfilled.items():
        single = manifests[slot]
        assert manifest["status"] == "succeeded" and manifest["error"] is None
        for key in ("silver", "live_flights", "gold", "airline_country_sources"):
            assert manifest["counts"][key] == single["counts"][key], key
        assert manifest["mapping_coverage"] == single["mapping_coverage"]
        # The same gate on the same figures: every check's value, threshold and verdict as the single run's (the
        # volume check compares with history, which the backfill has and the first single run had not).
        assert _checks(manifest) == _checks(single) and manifest["quality"]["passed"]
        assert manifest["config"]["backfill_id"] == report.backfill_id
        # Silver and quarantine snapshots carried from the single run; gold from the backfill's one commit a table.
        assert manifest["snapshots"]["silver_flights"] == single["snapshots"]["silver_flights"]
        assert manifest["table_runs"]["silver_flights"] == single["run_id"]
        assert len({backfilled[s]["snapshots"]["longest_live_flight"] for s in SLOTS}) == 1
    # The lake is settled: the next run's repair finds nothing to roll back (silver is the single runs', as named).
    lake = pipeline.open_lake(spark, _config(root, SLOTS[0], seed=0))
    assert repair(lake, LocalStorage(), str(root), "check", lambda *_: None) == []


def test_backfill_from_raw_recleans_silver_and_quarantine_as_single_runs(spark, singles) -> None:
    root, manifests, expected = singles

    report = backfill(BackfillConfig.parse(str(root), "2026-11-22T10", "2026-11-22T14", from_raw=True), spark=spark)

    assert report.published == SLOTS
    latest = {}
    for m in _manifests(root):
        if m["source"] == "backfill":
            latest[RunSlot.parse(m["run_slot"])] = m  # run ids sort by start time: the last is this backfill's
    for slot in SLOTS:
        for table in ("silver_flights", "quarantine_flights", *GOLD_TABLES):
            assert data_rows(str(root), table, slot) == expected[slot][table], (slot, table)
        assert runs_of(str(root), "silver_flights", slot) == {latest[slot]["run_id"]}
        # The capture the single run landed, the one its manifest names, is the one re-cleaned.
        assert latest[slot]["outputs"]["raw"] == manifests[slot]["outputs"]["raw"]
        assert latest[slot]["counts"]["raw"] == manifests[slot]["counts"]["raw"]
        assert latest[slot]["cleaning_rules"] == manifests[slot]["cleaning_rules"]


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
    root = str(tmp_path / "lake")
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
        publish_rows(spark, root, slot, {"silver_flights": _silver_rows(spark, rows)})

    report = backfill(BackfillConfig.parse(root, "2026-11-22T10", "2026-11-22T12"), spark=spark)

    assert report.published == [first, second]
    q1 = {
        slot: [(r["rank"], r["airline_icao"], r["live_flights"]) for r in _sorted(root, "airline", slot)]
        for slot in (first, second)
    }
    assert q1 == {first: [(1, "AFR", 3), (2, "DLH", 1)], second: [(1, "DLH", 2), (2, "AFR", 1)]}
    longest = {slot: [r["flight_id"] for r in _sorted(root, "longest", slot)] for slot in (first, second)}
    # CDG-JFK about 5,830 km > LHR-FRA about 650 km = FRA-LHR > CDG-FRA about 450 km; ties by flight id.
    assert longest[first] == ["a1", "a3", "a4", "a2"]
    # FRA-JFK about 6,200 km > FRA-CDG about 450 km > CDG-LHR about 350 km.
    assert longest[second] == ["b1", "b2", "b3"]


def _sorted(root: str, which: str, slot: RunSlot) -> list:
    table = {"airline": "airline_most_live_flights", "longest": "longest_live_flight"}[which]
    return sorted(current_rows(root, table, slot), key=lambda r: r["rank"])


def test_bad_ranges_stop_before_any_work(tmp_path, capsys) -> None:
    with pytest.raises(ConfigError, match="backfill range is empty: from 2026-11-02T00 is after to 2026-11-01T00"):
        BackfillConfig.parse(str(tmp_path), "2026-11-02T00", "2026-11-01T00")
    assert main(["backfill", "--data-root", str(tmp_path), "--from", "2026-11-01", "--to", "2026-11-02T00"]) == 2
    assert "run slot '2026-11-01' is not of the form YYYY-MM-DDTHH" in capsys.readouterr().err


def test_each_slot_meets_the_scheduled_runs_quality_gate(spark, tmp_path) -> None:
    root = tmp_path / "gate"
    big, small = SLOTS[0], SLOTS[1]
    runs = {big: pipeline.run(_config(root, big, seed=5, flights=1000), spark=spark)}
    runs[small] = pipeline.run(_config(root, small, seed=6, flights=200), spark=spark)
    floor = (runs[small]["counts"]["live_flights"] + runs[big]["counts"]["live_flights"]) // 2
    strict = QualitySettings(min_live_flights=floor)

    report = backfill(BackfillConfig.parse(str(root), str(big), str(small), quality=strict), spark=spark)

    assert report.published == [big]
    assert list(report.failed) == [small] and "min_live_flights" in report.failed[small]
    assert runs_of(str(root), "longest_live_flight", small) == {runs[small]["run_id"]}  # left as it was
    failed = [m for m in _manifests(root) if m["source"] == "backfill" and m["status"] == "failed"]
    assert [m["run_slot"] for m in failed] == [str(small)] and failed[0]["snapshots"] == {}

    lenient = QualitySettings(min_live_flights=floor, allow_degraded=True)
    report = backfill(BackfillConfig.parse(str(root), str(big), str(small), quality=lenient), spark=spark)

    assert report.published == [big, small] and list(report.degraded) == [small]
    degraded = [m for m in _manifests(root) if m["status"] == "degraded"]
    assert [m["run_slot"] for m in degraded] == [str(small)]
    assert runs_of(str(root), "longest_live_flight", small) == {degraded[0]["run_id"]}


class _Groups:
    """Stands in for the shared orchestration: a group fails when it holds a bad slot; records every group tried."""

    def __init__(self, bad: set[str]) -> None:
        self.bad, self.groups = bad, []

    def __call__(self, ctx, works) -> None:
        self.groups.append([str(w.slot)[-2:] for w in works])
        broken = [str(w.slot) for w in works if str(w.slot) in self.bad]
        if broken:
            raise RuntimeError(f"cannot read {broken[0]}")


NO_RAW = backfill_module._Plan(published={}, raw={})  # every slot from its published silver


class _Ctx:
    """Only what recording a group's outcome reads."""

    class config:
        data_root = "/nowhere"


def _isolate(monkeypatch, bad: set[str]) -> tuple[_Groups, backfill_module.BackfillReport, list[RunSlot]]:
    slots = [RunSlot.parse(f"2026-11-01T{h:02d}") for h in (0, 2, 4, 6)]
    groups = _Groups(bad)
    monkeypatch.setattr(backfill_module, "process", groups)
    monkeypatch.setattr(backfill_module, "rollback", lambda ctx, works: None)
    monkeypatch.setattr(backfill_module, "finish", lambda ctx, works, metrics: None)
    monkeypatch.setattr(backfill_module, "_works", _plain_works)
    report = backfill_module.BackfillReport("b", slots[0], slots[-1], slots)
    return groups, report, slots


def _plain_works(ctx, config, plan, slots, backfill_id, started):
    from etl.orchestration.pipeline import SlotWork
    from etl.publication.manifest import Manifest

    return [SlotWork(s, Manifest(run_id=f"r{s}", run_slot=s, source="backfill", started_at=started)) for s in slots]


def test_a_failing_group_is_halved_until_its_bad_slot_stands_alone(monkeypatch) -> None:
    groups, report, slots = _isolate(monkeypatch, bad={"2026-11-01T04"})

    backfill_module._run_isolating(_Ctx(), None, NO_RAW, slots, report, "b", datetime(2026, 11, 1, tzinfo=timezone.utc))

    assert groups.groups == [["00", "02", "04", "06"], ["00", "02"], ["04", "06"], ["04"], ["06"]]
    assert report.published == [slots[0], slots[1], slots[3]]
    assert report.failed == {slots[2]: "RuntimeError: cannot read 2026-11-01T04"}


def test_two_slots_failing_alone_before_any_success_stop_the_backfill(monkeypatch) -> None:
    groups, report, slots = _isolate(monkeypatch, bad={f"2026-11-01T{h:02d}" for h in (0, 2, 4, 6)})

    with pytest.raises(BackfillAborted) as caught:
        backfill_module._run_isolating(
            _Ctx(), None, NO_RAW, slots, report, "b", datetime(2026, 11, 1, tzinfo=timezone.utc)
        )

    assert str(caught.value) == (
        "slots 2026-11-01T00, 2026-11-01T02 each failed alone and none succeeded: "
        "RuntimeError: cannot read 2026-11-01T02"
    )
    assert groups.groups == [["00", "02", "04", "06"], ["00", "02"], ["00"], ["02"]]


def test_slots_are_grouped_by_a_day() -> None:
    day = [RunSlot.parse(f"2026-11-01T{h:02d}") for h in range(0, 24, 2)]
    next_day = [RunSlot.parse(f"2026-11-02T{h:02d}") for h in range(0, 6, 2)]

    assert backfill_module._groups(day + next_day) == [day, next_day]
    assert backfill_module._groups(next_day) == [next_day]
    assert backfill_module._groups([]) == []
