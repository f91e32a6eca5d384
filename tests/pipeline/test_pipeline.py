"""The whole job on a small simulated world: counts add up, re-runs replace one slot only, failures publish nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl import pipeline
from etl.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.config import JobConfig
from etl.errors import JobError
from etl.layout import RunSlot, table_partition

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2026-11-22T14")
OTHER = RunSlot.parse("2026-11-22T16")


def _config(root: Path, slot: RunSlot = SLOT, **changes) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=3000, **changes).validate()


def _gold_rows(spark, root: Path, table: str, slot: RunSlot) -> list[tuple]:
    df = spark.read.parquet(table_partition(str(root), "gold", table, slot))
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
        df = spark.read.parquet(table_partition(str(root), "gold", table, SLOT))
        assert df.columns == list(GOLD_SCHEMAS[table]), table
        assert df.count() == counts["gold"][table] > 0, table
    staging = root / "_staging"
    assert not staging.exists() or not any(staging.iterdir())


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
    other_files = sorted(p.name for p in Path(table_partition(str(root), "silver", "flights", OTHER)).iterdir())

    again = pipeline.run(_config(root), spark=spark)

    assert again["status"] == "succeeded"
    assert {t: _gold_rows(spark, root, t, SLOT) for t in GOLD_TABLES} == before
    assert {t: _gold_rows(spark, root, t, OTHER) for t in GOLD_TABLES} == other_before
    assert sorted(p.name for p in Path(table_partition(str(root), "silver", "flights", OTHER)).iterdir()) == other_files
    silver_files = list(Path(table_partition(str(root), "silver", "flights", SLOT)).glob("*.parquet"))
    assert spark.read.parquet(*map(str, silver_files)).count() == again["counts"]["silver"]


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
    assert not any((root / "_staging").glob("*"))
