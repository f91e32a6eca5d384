"""Publication on Iceberg under faults: a kill at each commit point, an I/O error between two tables, two runs of
one slot at once, a damaged table. Readers follow the manifests; the next run repairs; nothing blocks later runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl.cli import main
from etl.core.columns import GOLD_TABLES
from etl.core.config import JobConfig
from etl.core.layout import RunSlot
from etl.orchestration import pipeline
from etl.presentation.show import render_slot
from etl.publication import publish
from etl.publication.lake import SLOT_TABLES, LakeError
from etl.publication.maintenance import maintain
from etl.publication.spark_lake import Lake, PublicationConflict
from tests.etl.lakes import current_rows, runs_of
from tests.paths import REPO, short_run_java_options

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2026-11-22T14")
OTHER = RunSlot.parse("2026-11-22T16")


def _config(root: Path, slot: RunSlot = SLOT, seed: int = 1) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=800, demo_seed=seed).validate()


def _manifests(root: Path) -> dict[str, dict]:
    return {m["run_id"]: m for m in (json.loads(p.read_text()) for p in (root / "runs").glob("*.json"))}


def _owners(root: Path, slot: RunSlot) -> dict[str, set[str]]:
    """The runs of the slot's rows in each table (the demo quarantines nothing: that table's slot is empty)."""
    return {table: runs_of(str(root), table, slot) for table in SLOT_TABLES if table != "quarantine_flights"}


def _only(run_id: str) -> dict[str, set[str]]:
    return {table: {run_id} for table in SLOT_TABLES if table != "quarantine_flights"}


@pytest.fixture(scope="module")
def _good_lake(spark, tmp_path_factory) -> tuple[Path, Path, dict]:
    """One good run of SLOT (seed 1), the start of most tests here: run once, and kept as a copy beside it."""
    root = tmp_path_factory.mktemp("published") / "lake"
    good = pipeline.run(_config(root, seed=1), spark=spark)
    assert good["status"] == "succeeded"
    template = root.with_name("lake-as-published")
    shutil.copytree(root, template)
    return root, template, good


def _restore(root: Path, template: Path) -> None:
    """The copy goes back to the very path it was made at: Iceberg's metadata names its files by absolute path."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root)


@pytest.fixture
def published(_good_lake) -> tuple[Path, dict]:
    """A data root holding the good run of SLOT alone, and its manifest."""
    root, template, good = _good_lake
    _restore(root, template)
    return root, good


@pytest.fixture(scope="module")
def _replaced_lake(spark, _good_lake) -> tuple[Path, Path, dict, dict]:
    """The good run of SLOT, then a second run of the slot on another world (seed 9), kept as a copy beside it."""
    root, template, good = _good_lake
    _restore(root, template)
    second = pipeline.run(_config(root, seed=9), spark=spark)
    assert second["status"] == "succeeded"
    copy = root.with_name("lake-as-replaced")
    shutil.copytree(root, copy)
    return root, copy, good, second


@pytest.fixture
def replaced(_replaced_lake) -> tuple[Path, dict, dict]:
    """A data root whose slot SLOT the good run published, then a second run replaced: both manifests."""
    root, copy, good, second = _replaced_lake
    _restore(root, copy)
    return root, good, second


def _kill_at(root: Path, point: str, seed: int) -> subprocess.CompletedProcess:
    # The run's JVM lives for one run: the flags the local command line gives such JVMs (how fast, not what).
    submit = (
        f"--driver-java-options '{short_run_java_options()}' {os.environ.get('PYSPARK_SUBMIT_ARGS', 'pyspark-shell')}"
    )
    return subprocess.run(
        [sys.executable, "-m", "tests.etl.run_and_die", str(root), str(SLOT), str(seed), point],
        cwd=REPO,
        env={**os.environ, "PYSPARK_SUBMIT_ARGS": submit},
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,  # its own process group, which it kills whole
    )


@pytest.mark.parametrize("point", ["commit:1", "commit:10", "manifest"])
def test_a_run_killed_at_a_commit_point_is_repaired_by_the_next_run(spark, published, point) -> None:
    root, good = published

    killed = _kill_at(root, point, seed=2)

    assert killed.returncode == -9, killed.stderr[-2000:]
    # Readers follow the newest published manifest: the good run's answers, whatever the tables hold now.
    shown = render_slot(str(root), SLOT)
    if point == "manifest":  # the killed run had written its manifest: it is the published one
        newest = max(m["run_id"] for m in _manifests(root).values())
        assert f"run {newest}: succeeded" in shown and newest != good["run_id"]
    else:
        assert f"run {good['run_id']}: succeeded" in shown
        dead = {run for owners in _owners(root, SLOT).values() for run in owners} - {good["run_id"]}
        assert len(dead) == 1  # the killed run's rows are in the tables it committed
        if point == "commit:1":  # and not in the others
            assert any(owners == {good["run_id"]} for owners in _owners(root, SLOT).values())

    # The next run, of another slot, repairs the slot first: every table back on the published run.
    after = pipeline.run(_config(root, OTHER, seed=3), spark=spark)

    assert after["status"] == "succeeded"
    published = max(
        (m for m in _manifests(root).values() if m["run_slot"] == str(SLOT) and m["status"] == "succeeded"),
        key=lambda m: m["run_id"],
    )
    assert _owners(root, SLOT) == _only(published["run_id"])
    runs_rows = {r["run_id"] for r in current_rows(str(root), "runs", SLOT)}
    assert published["run_id"] in runs_rows  # a killed run's missing runs-table row is appended
    if point != "manifest":
        dead_id = next(iter(dead))
        record = _manifests(root)[dead_id]  # the interrupted run now has a manifest saying what happened
        assert record["status"] == "failed"
        assert record["error"] == (
            f"interrupted during publication; slot rolled back to {good['run_id']} by {after['run_id']}"
        )


def test_an_io_error_between_two_tables_rolls_the_run_back(spark, published, monkeypatch) -> None:
    root, good = published
    real_commit = Lake.commit
    calls: list[str] = []

    def failing(self, table, *args, **kwargs):
        calls.append(table)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_commit(self, table, *args, **kwargs)

    monkeypatch.setattr(Lake, "commit", failing)
    with pytest.raises(OSError, match="No space left on device"):
        pipeline.run(_config(root, seed=2), spark=spark)
    monkeypatch.setattr(Lake, "commit", real_commit)

    # The tables the failed run had committed are rolled back at once: the slot is wholly the good run's.
    assert _owners(root, SLOT) == _only(good["run_id"])
    failed = [m for m in _manifests(root).values() if m["status"] == "failed"]
    assert len(failed) == 1 and "No space left on device" in failed[0]["error"]
    assert pipeline.run(_config(root, seed=4), spark=spark)["status"] == "succeeded"  # not blocked


def test_two_runs_of_one_slot_at_once_never_mix(spark, published, monkeypatch) -> None:
    root, _ = published
    real_commit = Lake.commit
    second: dict[str, dict] = {}

    def interleaved(self, table, *args, **kwargs):
        snapshot = real_commit(self, table, *args, **kwargs)
        if not second:  # after the first run's first commit, a second run of the slot runs from start to end
            monkeypatch.setattr(Lake, "commit", real_commit)
            second["manifest"] = pipeline.run(_config(root, seed=5), spark=spark)
            monkeypatch.setattr(Lake, "commit", interleaved)
        return snapshot

    monkeypatch.setattr(Lake, "commit", interleaved)
    monkeypatch.setattr(publish, "COMMIT_THREADS", 1)  # the first run's commits in a known order
    with pytest.raises(PublicationConflict, match="another run wrote slot"):
        pipeline.run(_config(root, seed=2), spark=spark)

    winner = second["manifest"]
    assert winner["status"] == "succeeded"
    assert _owners(root, SLOT) == _only(winner["run_id"])
    assert f"run {winner['run_id']}: succeeded" in render_slot(str(root), SLOT)


def test_a_deleted_data_file_is_one_line_and_leaves_other_tables_and_slots_serving(spark, published, capsys) -> None:
    root, _ = published
    other = pipeline.run(_config(root, OTHER, seed=3), spark=spark)
    data = root / "warehouse/flight_kpis/longest_live_flight/data/tech_year=2026/tech_month=2026-11"
    victim = next((data / "tech_day=2026-11-22" / "tech_hour=14").glob("*.parquet"))
    victim.unlink()

    assert main(["show", "--data-root", str(root), "--run-slot", str(SLOT)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "longest_live_flight" in err[0]
    assert "re-run the slot" in err[0]
    # The other slot, and the other tables of this slot, still serve.
    assert f"run {other['run_id']}: succeeded" in render_slot(str(root), OTHER)
    assert current_rows(str(root), "airline_most_live_flights", SLOT)
    # A later run of the slot is not blocked: it replaces the slot's files, the damaged one included.
    again = pipeline.run(_config(root, seed=6), spark=spark)
    assert again["status"] == "succeeded"
    assert main(["show", "--data-root", str(root), "--run-slot", str(SLOT)]) == 0
    assert f"run {again['run_id']}: succeeded" in capsys.readouterr().out


def test_a_damaged_metadata_file_names_the_table_and_the_repair(published, capsys) -> None:
    root, _ = published
    metadata = root / "warehouse/flight_kpis/manufacturer_most_live_flights/metadata"
    version = (metadata / "version-hint.text").read_text().strip()
    (metadata / f"v{version}.metadata.json").write_text("{ not json")

    assert main(["show", "--data-root", str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "manufacturer_most_live_flights" in err[0] and f"v{version}.metadata.json" in err[0]


def test_show_as_of_an_earlier_run_reads_it_through_time_travel(replaced, capsys) -> None:
    root, first, second = replaced
    assert first["counts"]["gold"] != second["counts"]["gold"]  # two different worlds

    assert main(["show", "--data-root", str(root), "--as-of", first["run_id"]]) == 0
    earlier = capsys.readouterr().out
    assert main(["show", "--data-root", str(root)]) == 0
    latest = capsys.readouterr().out

    assert f"run {first['run_id']}: succeeded" in earlier and f"run {second['run_id']}: succeeded" in latest
    for table in GOLD_TABLES:
        assert runs_of(str(root), table, SLOT) == {second["run_id"]}
    assert earlier != latest


def test_maintenance_expires_old_snapshots_and_orphans_and_the_answers_stay(spark, replaced, capsys) -> None:
    from datetime import datetime, timedelta, timezone

    root, first, second = replaced
    data = root / "warehouse/flight_kpis/longest_live_flight/data"
    orphan = data / "tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/orphan.parquet"
    orphan.write_bytes(b"not referenced by any snapshot")
    lake = pipeline.open_lake(spark, _config(root))
    later = datetime.now(timezone.utc) + timedelta(days=4)  # every snapshot and file is past the 3 days

    done = maintain(lake, now=later)

    assert done["snapshots_expired"]["longest_live_flight"] >= 1
    assert not orphan.exists() and done["orphan_files_removed"]["longest_live_flight"] >= 1
    # The published run still answers; the replaced one says why it no longer can.
    assert f"run {second['run_id']}: succeeded" in render_slot(str(root), SLOT)
    assert main(["show", "--data-root", str(root), "--as-of", first["run_id"]]) == 1
    err = capsys.readouterr().err
    assert f"run {first['run_id']} of slot {SLOT} was replaced" in err and "has expired" in err


def test_a_lake_of_the_former_pointer_layout_is_refused_with_the_way_on(spark, tmp_path) -> None:
    root = tmp_path / "old"
    (root / "gold/longest_live_flight/tech_year=2026").mkdir(parents=True)
    (root / "_publish/pending").mkdir(parents=True)

    with pytest.raises(LakeError) as refused:
        pipeline.run(_config(root), spark=spark)

    message = str(refused.value)
    assert "former pointer layout (gold/, _publish/)" in message
    assert f"python -m etl backfill --data-root {root} --from FIRST_SLOT --to LAST_SLOT --from-raw" in message
    assert not (root / "runs").exists() and not (root / "warehouse").exists()  # nothing written


def test_a_table_whose_version_hint_a_kill_removed_is_read_at_its_newest_metadata(published) -> None:
    # Iceberg's Hadoop catalog replaces version-hint.text by delete-then-rename: a SIGKILL in between leaves none.
    root, good = published
    before = render_slot(str(root), SLOT)
    hint = root / "warehouse" / "flight_kpis" / "average_route_distance_by_continent" / "metadata" / "version-hint.text"
    hint.unlink()

    assert render_slot(str(root), SLOT) == before
    assert f"run {good['run_id']}: succeeded" in before
