"""The whole job on a small simulated world: counts add up, re-runs replace one slot only, failures publish nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES, PARTITION_COLUMNS, RUN_ID
from etl.core.config import JobConfig
from etl.core.errors import JobError
from etl.core.layout import RunSlot
from etl.orchestration import pipeline
from etl.publication.lake import LAKE_TABLES, SLOT_TABLES
from tests.etl.lakes import current_rows, data_rows, runs_of

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2026-11-22T14")
OTHER = RunSlot.parse("2026-11-22T16")


def _config(root: Path, slot: RunSlot = SLOT, **changes) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=3000, **changes).validate()


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    first = pipeline.run(_config(root), spark=spark)
    other = pipeline.run(_config(root, OTHER, demo_seed=7), spark=spark)
    return root, first, other


def test_counts_add_up_and_every_table_is_published_as_iceberg(lake) -> None:
    root, manifest, _ = lake
    counts = manifest["counts"]
    assert manifest["status"] == "succeeded"
    assert counts["raw"] == counts["silver"] + counts["quarantine"]
    assert counts["raw"] == 3000 - manifest["extraction"].get("duplicates_removed", 0)
    assert 0 < counts["live_flights"] < counts["silver"]
    assert set(manifest["snapshots"]) == set(SLOT_TABLES)
    for table in GOLD_TABLES:
        rows = current_rows(str(root), table, SLOT)
        assert list(rows[0]) == [*GOLD_SCHEMAS[table], RUN_ID, *PARTITION_COLUMNS], table
        assert len(rows) == counts["gold"][table] > 0, table
        assert {r[RUN_ID] for r in rows} == {manifest["run_id"]}
        assert {r["tech_hour"] for r in rows} == {"14"} and {r["tech_month"] for r in rows} == {"2026-11"}
    assert len(current_rows(str(root), "silver_flights", SLOT)) == counts["silver"]
    # Every table is an Iceberg table of the local catalog: metadata beside the data, partitioned by slot.
    warehouse = root / "warehouse" / "flight_kpis"
    for table in LAKE_TABLES:
        assert (warehouse / table / "metadata" / "version-hint.text").is_file(), table
    assert list(
        (warehouse / "silver_flights" / "data").glob("tech_year=2026/tech_month=2026-11/tech_day=*/tech_hour=14")
    )


def test_the_capture_lands_under_the_run_id_and_the_manifest_names_it(lake) -> None:
    root, manifest, _ = lake
    raw = Path(manifest["outputs"]["raw"])
    assert raw.name == f"{manifest['run_id']}.csv" and raw.is_file()
    assert raw.parent == root / "raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14"


def test_manifest_on_disk_is_the_returned_one_and_the_runs_table_has_it(lake) -> None:
    root, manifest, _ = lake
    on_disk = json.loads((root / "runs" / f"{manifest['run_id']}.json").read_text())
    assert on_disk == manifest
    assert set(on_disk["timings_s"]) >= {"extract", "clean", "kpis", "publish", "total"}
    assert on_disk["versions"]["spark"] == "3.5.6"
    runs = current_rows(str(root), "runs", SLOT)
    assert [(r[RUN_ID], r["status"], r["counts"]["silver"]) for r in runs] == [
        (manifest["run_id"], "succeeded", manifest["counts"]["silver"])
    ]
    assert dict(runs[0]["snapshots"]) == manifest["snapshots"]


def test_rerun_replaces_its_slot_with_the_same_rows_and_leaves_others(spark, lake) -> None:
    root, first, other = lake
    before = {t: data_rows(str(root), t, SLOT) for t in GOLD_TABLES}
    other_before = {t: data_rows(str(root), t, OTHER) for t in (*GOLD_TABLES, "silver_flights")}

    again = pipeline.run(_config(root), spark=spark)

    assert again["status"] == "succeeded"
    assert {t: data_rows(str(root), t, SLOT) for t in GOLD_TABLES} == before
    assert {t: data_rows(str(root), t, OTHER) for t in (*GOLD_TABLES, "silver_flights")} == other_before
    for table in SLOT_TABLES:
        assert runs_of(str(root), table, SLOT) <= {again["run_id"]}, table
        assert runs_of(str(root), table, OTHER) <= {other["run_id"]}, table
    # The first run's capture is kept beside the re-run's: no run replaces another's raw.
    assert Path(first["outputs"]["raw"]).is_file() and Path(again["outputs"]["raw"]).is_file()


def test_a_failed_run_keeps_the_previous_slot_and_its_raw_and_records_its_error(spark, lake, monkeypatch) -> None:
    root, _, other = lake
    before = {t: data_rows(str(root), t, OTHER) for t in SLOT_TABLES}

    import etl.transform.kpis

    def broken(*_args, **_kwargs):
        raise JobError("KPI stage exploded")

    monkeypatch.setattr(etl.transform.kpis, "compute_kpis", broken)
    with pytest.raises(JobError, match="KPI stage exploded"):
        pipeline.run(_config(root, OTHER, demo_seed=99), spark=spark)

    assert {t: data_rows(str(root), t, OTHER) for t in SLOT_TABLES} == before
    failed = [json.loads(p.read_text()) for p in (root / "runs").glob("*.json")]
    failed = [m for m in failed if m["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["run_slot"] == str(OTHER)
    assert failed[0]["error"] == "JobError: KPI stage exploded"
    assert failed[0]["snapshots"] == {}
    assert Path(other["outputs"]["raw"]).is_file() and Path(failed[0]["outputs"]["raw"]).is_file()


class _FakeContext:
    def __init__(self) -> None:
        self.cancelled = 0

    def cancelAllJobs(self) -> None:  # PySpark's name
        self.cancelled += 1


def test_spark_starts_beside_the_run_and_ctrl_c_cancels_its_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    import threading
    from types import SimpleNamespace

    threads = []
    session = SimpleNamespace(sparkContext=_FakeContext())

    def build(config):
        threads.append(threading.current_thread())
        return session

    monkeypatch.setattr(pipeline, "build_spark", build)
    monkeypatch.setattr(pipeline, "open_lake", lambda spark, config: ("lake of", spark))
    monkeypatch.setattr(signal, "getsignal", lambda _sig: signal.default_int_handler)  # as in a fresh process
    installed = {}
    monkeypatch.setattr(signal, "signal", lambda sig, handler: installed.setdefault(sig, handler))

    spark, lake = pipeline.SparkStart(JobConfig(data_root="unused", run_slot=RunSlot.parse("2026-11-22T14"))).result()

    assert spark is session and lake == ("lake of", session)
    assert threads and threads[0] is not threading.main_thread()  # started beside the caller
    with pytest.raises(KeyboardInterrupt):
        installed[signal.SIGINT](signal.SIGINT, None)
    for thread in threading.enumerate():
        if thread.name == "spark-cancel":
            thread.join(timeout=10)
    assert session.sparkContext.cancelled == 1  # from a thread of its own, not the interrupted one


def test_a_spark_that_cannot_start_fails_where_the_session_is_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(config):
        raise RuntimeError("Java gateway process exited before sending its port number")

    monkeypatch.setattr(pipeline, "build_spark", build)
    starting = pipeline.SparkStart(JobConfig(data_root="unused", run_slot=RunSlot.parse("2026-11-22T14")))
    with pytest.raises(RuntimeError, match="Java gateway"):
        starting.result()


def test_an_interrupted_run_records_itself_and_the_next_run_completes_the_runs_table(
    spark, tmp_path, monkeypatch
) -> None:
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("etl.transform.kpis.enriched_live_flights", interrupt)  # Ctrl-C in the quality stage
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(_config(tmp_path), spark=spark)
    monkeypatch.undo()
    (path,) = (tmp_path / "runs").glob("*.json")
    interrupted = json.loads(path.read_text())
    assert (interrupted["status"], interrupted["error"]) == ("failed", "interrupted (SIGINT)")
    assert current_rows(str(tmp_path), "silver_flights", SLOT) == []  # nothing published

    after = pipeline.run(_config(tmp_path, demo_seed=2), spark=spark)
    assert after["status"] == "succeeded"
    # The interrupted run, first of this lake, wrote no row of its own: the next run appended it.
    runs = current_rows(str(tmp_path), "runs", SLOT, [RUN_ID, "status", "error"])
    assert sorted((r[RUN_ID], r["status"], r["error"]) for r in runs) == sorted(
        [(interrupted["run_id"], "failed", "interrupted (SIGINT)"), (after["run_id"], "succeeded", None)]
    )


@pytest.mark.parametrize("names", [("a.csv", "b.csv"), ("a.csv", "b c.csv")], ids=["one scan", "a name to escape"])
def test_captures_read_together_keep_each_row_under_its_files_slot(spark, tmp_path, names) -> None:
    from datetime import datetime, timezone

    from etl.core.columns import RAW_COLUMNS
    from etl.extract.landing import raw_csv
    from etl.publication.manifest import Manifest
    from etl.transform.enrich import SLOT_KEY

    slots = [SLOT, OTHER]
    works = []
    for number, (slot, name) in enumerate(zip(slots, names, strict=True)):
        path = tmp_path / name
        path.write_bytes(
            raw_csv([{**dict.fromkeys(RAW_COLUMNS, ""), "id": f"{number}-{n}"} for n in range(number + 1)])
        )
        manifest = Manifest(run_id=f"r{number}", run_slot=slot, source="demo", started_at=datetime.now(timezone.utc))
        works.append(pipeline.SlotWork(slot, manifest, raw_path=str(path)))

    rows = pipeline._raw_captures(spark, works).groupBy(SLOT_KEY).count().collect()

    assert {row[SLOT_KEY]: row["count"] for row in rows} == {str(SLOT): 1, str(OTHER): 2}
