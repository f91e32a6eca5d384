"""The whole job on a small simulated world: counts add up, re-runs replace one slot only, failures publish nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl import pipeline
from etl.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.config import JobConfig
from etl.errors import JobError
from etl.layout import RunSlot, table_data_slot, table_partition
from etl.tables import read_table

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2026-11-22T14")
OTHER = RunSlot.parse("2026-11-22T16")


def _config(root: Path, slot: RunSlot = SLOT, **changes) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=3000, **changes).validate()


def _gold_rows(spark, root: Path, table: str, slot: RunSlot) -> list[tuple]:
    df = read_table(spark, str(root), "gold", table, [slot]).select(*GOLD_SCHEMAS[table])
    return sorted(tuple(r) for r in df.collect())


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    first = pipeline.run(_config(root), spark=spark)
    other = pipeline.run(_config(root, OTHER, demo_seed=7), spark=spark)
    return root, first, other


def test_counts_add_up_and_every_table_is_published(spark, lake) -> None:
    root, manifest, _ = lake
    counts = manifest["counts"]
    assert manifest["status"] == "succeeded"
    assert counts["raw"] == counts["silver"] + counts["quarantine"]
    assert counts["raw"] == 3000 - manifest["extraction"].get("duplicates_removed", 0)
    assert 0 < counts["live_flights"] < counts["silver"]
    for table in GOLD_TABLES:
        df = read_table(spark, str(root), "gold", table, [SLOT])
        assert df.columns == [*GOLD_SCHEMAS[table], "tech_year", "tech_month", "tech_day", "tech_hour"], table
        assert df.count() == counts["gold"][table] > 0, table
        # The partition folder holds the pointer only (and, locally, its hidden lock); the data is in the run's folder.
        folder = Path(table_partition(str(root), "gold", table, SLOT))
        assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["symlink.txt"]
        runs = [p.name for p in Path(table_data_slot(str(root), "gold", table, SLOT)).iterdir()]
        assert runs == [f"run_id={manifest['run_id']}"], table
    assert not any((root / "_publish" / "pending").glob("*.json"))


def test_manifest_on_disk_is_the_returned_one(lake) -> None:
    root, manifest, _ = lake
    on_disk = json.loads((root / "runs" / f"{manifest['run_id']}.json").read_text())
    assert on_disk == manifest
    assert set(on_disk["timings_s"]) >= {"extract", "clean", "kpis", "publish", "total"}
    assert on_disk["versions"]["spark"] == "3.5.6"


def test_rerun_replaces_its_slot_with_the_same_rows_and_leaves_others(spark, lake) -> None:
    root, _, _ = lake
    before = {t: _gold_rows(spark, root, t, SLOT) for t in GOLD_TABLES}
    other_before = {t: _gold_rows(spark, root, t, OTHER) for t in GOLD_TABLES}
    other_pointer = (Path(table_partition(str(root), "silver", "flights", OTHER)) / "symlink.txt").read_text()

    again = pipeline.run(_config(root), spark=spark)

    assert again["status"] == "succeeded"
    assert {t: _gold_rows(spark, root, t, SLOT) for t in GOLD_TABLES} == before
    assert {t: _gold_rows(spark, root, t, OTHER) for t in GOLD_TABLES} == other_before
    assert (Path(table_partition(str(root), "silver", "flights", OTHER)) / "symlink.txt").read_text() == other_pointer
    silver = read_table(spark, str(root), "silver", "flights", [SLOT])
    assert silver.count() == again["counts"]["silver"]
    # The pointer names the re-run's files only; the first run's folder is kept as the previous version.
    listed = (Path(table_partition(str(root), "silver", "flights", SLOT)) / "symlink.txt").read_text().split()
    assert listed and all(f"/run_id={again['run_id']}/" in f for f in listed)
    kept = sorted(p.name for p in Path(table_data_slot(str(root), "silver", "flights", SLOT)).iterdir())
    assert kept == sorted([f"run_id={lake[1]['run_id']}", f"run_id={again['run_id']}"])


def test_a_failed_run_keeps_the_previous_partitions_and_records_its_error(spark, lake, monkeypatch) -> None:
    root, _, _ = lake
    before = {t: _gold_rows(spark, root, t, OTHER) for t in GOLD_TABLES}

    import etl.kpis

    def broken(*_args, **_kwargs):
        raise JobError("KPI stage exploded")

    monkeypatch.setattr(etl.kpis, "compute_kpis", broken)
    with pytest.raises(JobError, match="KPI stage exploded"):
        pipeline.run(_config(root, OTHER, demo_seed=99), spark=spark)

    assert {t: _gold_rows(spark, root, t, OTHER) for t in GOLD_TABLES} == before
    failed = [json.loads(p.read_text()) for p in (root / "runs").glob("*.json")]
    failed = [m for m in failed if m["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["run_slot"] == str(OTHER)
    assert failed[0]["error"] == "JobError: KPI stage exploded"
    assert not (Path(table_data_slot(str(root), "silver", "flights", OTHER)) / f"run_id={failed[0]['run_id']}").exists()
