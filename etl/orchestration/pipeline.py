"""The one orchestration of the job: a scheduled run is a backfill of one slot from a fresh capture.

`run` lands a capture, then hands its slot to `process`; `etl.orchestration.backfill.backfill` hands many slots to
`process`, in groups. `process` does the same for one slot or a thousand:
  silver (clean each slot's raw capture, or read the slot's published silver at its manifest's snapshot)
  -> the figures of every slot in one pass (counts, coverage, airline-country sources)
  -> the quality gate per slot (the job config's `quality` settings)
  -> the KPIs of the slots that pass, grouped by slot
  -> one Iceberg commit per table for all those slots (etl/publication/publish.py), then one manifest per slot naming
     each table's snapshot id, then the runs table.
A slot that fails the gate, or whose counts do not add up, is recorded as failed and publishes nothing; the others
go on. Every row carries its slot's run id and partition columns.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import reduce
from pathlib import PurePosixPath
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.config import JobConfig, canonical_source
from etl.core.errors import JobError, first_line
from etl.core.layout import RunSlot
from etl.core.log import bind_run_id, log_event
from etl.core.spark_session import SPARK_SETTINGS, import_short_names, keep, require_java, session_builder
from etl.core.storage import Storage, storage_for
from etl.extract.feed import Feed
from etl.publication.lake import GOLD, QUARANTINE, RUNS, SILVER, catalog_settings, refuse_pointer_layout, runtime_jar
from etl.publication.manifest import (
    DEGRADED,
    FAILED,
    SUCCEEDED,
    Manifest,
    new_run_id,
    run_started,
    versions,
    volume_history,
)
from etl.publication.metrics import publish_alert, publish_run_metrics
from etl.publication.publish import publish_tables, published_by_slot, repair, with_run_columns
from etl.publication.run_lock import running
from etl.publication.spark_lake import Lake
from etl.quality.gate import QualityReport, evaluate, inputs_from_counts, with_volume
from etl.reference import References
from etl.transform.enrich import SLOT_KEY

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class DataQualityError(JobError):
    """The stages' counts do not add up: a row was lost or invented."""


class QualityGateError(JobError):
    """The quality gate failed: nothing of the run is published; `report` holds every check."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__(report.one_line())
        self.report = report


def build_spark(config: JobConfig) -> SparkSession:
    """The job's Spark session: SPARK_SETTINGS, Iceberg's runtime and the `lake` catalog, on config.spark_master."""
    settings = {**SPARK_SETTINGS, **catalog_settings(config.lake.catalog, config.warehouse)}
    builder = session_builder(f"flight-kpis-{config.run_slot}", config.spark_master, settings)
    if config.lake.catalog == "hadoop":  # on EMR the release's own Iceberg is on the classpath
        builder = builder.config("spark.jars", runtime_jar())
    return builder.getOrCreate()


class SparkStart:
    """build_spark(config) and open_lake, in a thread of their own started now: while the capture is extracted.

    The two use different cores (Spark's start and the lake's metadata are the JVM's own threads; the extraction is
    Python and the feed's round trips), so the run no longer waits for one, then the other. The thread is a daemon:
    a run that fails before it needs Spark exits without waiting for the JVM, whose gateway ends with this process.
    """

    def __init__(self, config: JobConfig) -> None:
        self._done: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._start, args=(config,), name="spark-start", daemon=True)
        self._thread.start()

    def _start(self, config: JobConfig) -> None:
        try:
            self._done["session"] = spark = build_spark(config)
            self._done["lake"] = open_lake(spark, config)
        except BaseException as exc:  # raised where the session is wanted, in the spark_start stage
            self._done["error"] = exc

    def result(self) -> tuple[SparkSession, Lake]:
        """The session and its lake, once ready; what stopped them is raised here."""
        self._thread.join()
        if "error" in self._done:
            raise self._done["error"]
        spark = self._done["session"]
        _cancel_jobs_on_interrupt(spark)
        return spark, self._done["lake"]


def _cancel_all_jobs(spark: SparkSession) -> None:
    try:
        spark.sparkContext.cancelAllJobs()
    except Exception as exc:  # the process is on its way out: the interrupt is what matters
        log_event("spark_jobs_not_cancelled", logging.WARNING, error=first_line(exc))


def _cancel_jobs_on_interrupt(spark: SparkSession) -> None:
    """Ctrl-C cancels Spark's jobs, then interrupts the run: what PySpark sets up when its context starts in the main
    thread, and SparkStart starts it in another. A handler of the process's own (not Python's default) is kept."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return

    def interrupted(_signum: int, _frame: Any) -> None:
        # From another thread: Py4J gives each thread its own connection, and this one may be mid-call on the
        # main thread's (a second call on it from the handler would cut it).
        threading.Thread(target=_cancel_all_jobs, args=(spark,), name="spark-cancel", daemon=True).start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)


def open_lake(spark: SparkSession, config: JobConfig) -> Lake:
    """The `lake` catalog set on the session (a running one too: catalogs load on first use), tables ensured.

    The session's loaded catalogs are dropped first: one that already used `lake` with another warehouse (one
    process running several data roots, as the tests and a builder reused by getOrCreate do) would keep writing
    there, whatever the settings now say. The next use loads the catalog these settings describe.
    """
    for key, value in catalog_settings(config.lake.catalog, config.warehouse).items():
        spark.conf.set(key, value)
    spark._jsparkSession.sessionState().catalogManager().reset()
    import_short_names(spark)
    lake = Lake(spark, config.lake.database)
    lake.ensure_tables()
    return lake


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    log_event("stage_started", stage=stage)
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - started, 3)
        log_event("stage_finished", stage=stage, seconds=timings[stage])


@dataclass
class SlotWork:
    """One slot to compute and publish, and its record as it goes."""

    slot: RunSlot
    manifest: Manifest
    raw_path: str | None = None  # re-clean this capture; None: recompute gold from the published silver
    raw_header: tuple[str, ...] | None = None  # the capture's header, when known (else read by Spark)
    previous: dict[str, Any] | None = None  # the slot's newest published manifest (its snapshots)
    missing_columns: list[str] = field(default_factory=list)  # capture columns a KPI needs that the capture lacks
    error: str | None = None
    report: QualityReport | None = None
    coverage_counts: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # etl.quality.coverage.mapping_coverage_counts

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


@dataclass
class Context:
    """What every group of slots shares: the session, the lake, the storage, the references and the settings."""

    config: JobConfig
    spark: SparkSession
    lake: Lake
    storage: Storage
    refs: References
    progress: Progress = field(default=lambda _stage, _done, _total: None)


def _tag(df: DataFrame, slot: RunSlot) -> DataFrame:
    return df.withColumn(SLOT_KEY, F.lit(str(slot)))


# A file name its URI spells as it is (a run id's: `<slot>-<time>-<hex>.csv`).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _raw_captures(spark: SparkSession, works: list[SlotWork]) -> DataFrame:
    """The raw rows of the works' captures, each tagged with its slot in SLOT_KEY.

    One scan for all (a capture's file is named by a run id, unique): each row's slot is its file's. A query plan
    with one branch per capture costs more to analyse and optimise than its rows cost to clean: a backfill took at
    most 4 captures a group then; in one scan it takes a whole group (the 15 real captures replayed in 2 groups
    instead of 4: 59 s instead of 84 s, tests/etl/orchestration/test_pipeline_real_captures.py).
    """
    from etl.transform.clean import read_raw_flights

    slots = {PurePosixPath(str(w.raw_path)).name: str(w.slot) for w in works}
    # Each read apart: two captures of one name, or a name a file URI would spell otherwise (%20 for a space).
    if len(slots) < len(works) or not all(_PLAIN_NAME.fullmatch(name) for name in slots):
        return reduce(
            DataFrame.unionByName,
            [_tag(read_raw_flights(spark, str(w.raw_path), header=w.raw_header), w.slot) for w in works],
        )
    names = F.create_map(*(F.lit(text) for item in slots.items() for text in item))
    headers = {w.raw_header for w in works}
    header = headers.pop() if len(headers) == 1 else None  # one header known for every capture, else each file's
    raw = read_raw_flights(spark, [str(w.raw_path) for w in works], header=header)
    return raw.withColumn(SLOT_KEY, names[F.element_at(F.split(F.input_file_name(), "/"), -1)])


def _slot_of_partitions() -> Any:
    return F.concat(F.col("tech_day"), F.lit("T"), F.col("tech_hour"))


def process(ctx: Context, works: list[SlotWork]) -> None:
    """Compute, gate and publish a group of slots; each work's manifest is filled, its error set when it failed.

    Raises when the group as a whole fails (a Spark or lake error): nothing of the group was published then.
    """
    timings: dict[str, float] = {}
    by_slot = {w.slot: w for w in works}
    silver_parts, quarantine_parts, cleaned_all = [], [], []
    with timed(timings, "clean"):
        recleaned = [w for w in works if w.raw_path is not None]
        if recleaned:
            from etl.transform.clean import QUARANTINE_RULES, RULES, clean_flights

            # Every slot's capture in one pass, each cleaned as on its own (its duplicates are its own).
            raw = _raw_captures(ctx.spark, recleaned)
            cleaned = clean_flights(raw, key=SLOT_KEY)
            cleaned_all.append(cleaned)
            raw_rows = {row[SLOT_KEY]: int(row["count"]) for row in raw.groupBy(SLOT_KEY).count().collect()}
            if None in raw_rows:  # never expected: each row's slot is its file's
                raise DataQualityError(f"{raw_rows[None]} raw rows were read from no capture of the run's slots")
            for work in recleaned:
                rules = cleaned.rule_counts_by_key.get(str(work.slot), dict.fromkeys(RULES, 0))
                work.manifest.cleaning_rules = dict(rules)
                work.manifest.counts.update(
                    raw=raw_rows.get(str(work.slot), 0), quarantine=sum(rules[rule] for rule in QUARANTINE_RULES)
                )
            silver_parts.append(cleaned.silver)
            quarantine_parts.append(cleaned.quarantine)
            ctx.progress("clean", len(recleaned), len(recleaned))
        kept = {w.slot: int(w.previous["snapshots"][SILVER.name]) for w in works if w.raw_path is None and w.previous}
        if kept:
            owners = {w.slot: w.previous["run_id"] for w in works if w.previous}
            published = ctx.lake.read_at(SILVER.name, kept, owners)
            silver_parts.append(published.select(*SILVER.data_columns, _slot_of_partitions().alias(SLOT_KEY)))
            _count_published_quarantine(ctx, works)
        silver = keep(reduce(DataFrame.unionByName, silver_parts))

    with timed(timings, "quality"):
        from etl.transform.kpis import enriched_live_flights

        live = enriched_live_flights(silver, ctx.refs)  # the coverage, the sources and the KPIs read them
        _measure(ctx, silver, live, works)
        for work in works:
            _gate(ctx, work)
    passing = [w.slot for w in works if w.error is None]

    with timed(timings, "kpis"):
        frames: dict[str, tuple[DataFrame, list[RunSlot]]] = {}
        run_ids = {w.slot: w.run_id for w in works}
        if passing:
            from etl.transform.kpis import compute_kpis

            wanted = F.col(SLOT_KEY).isin([str(s) for s in passing])
            gold = compute_kpis(silver.where(wanted), ctx.refs, live.where(wanted))
            for name, table in GOLD.items():
                frames[name] = (with_run_columns(gold[name], SLOT_KEY, run_ids, table), passing)
            fresh = [s for s in passing if by_slot[s].raw_path is not None]
            if fresh:
                fresh_filter = F.col(SLOT_KEY).isin([str(s) for s in fresh])
                frames[SILVER.name] = (with_run_columns(silver.where(fresh_filter), SLOT_KEY, run_ids, SILVER), fresh)
                quarantine = reduce(DataFrame.unionByName, quarantine_parts).where(fresh_filter)
                frames[QUARANTINE.name] = (with_run_columns(quarantine, SLOT_KEY, run_ids, QUARANTINE), fresh)

    with timed(timings, "publish"):
        if frames:
            committed_tables: list[str] = []

            def committed(table: str) -> None:
                committed_tables.append(table)
                ctx.progress("publish", len(committed_tables), len(frames))

            snapshots = publish_tables(ctx.lake, frames, run_ids, on_commit=committed)
            for slot in passing:
                work = by_slot[slot]
                previous = work.previous or {}
                carried = {
                    k: v for k, v in (previous.get("snapshots") or {}).items() if k in (SILVER.name, QUARANTINE.name)
                }
                carried_runs = previous.get("table_runs") or {}
                written = [table for table, (_, slots) in frames.items() if slot in slots]
                work.manifest.snapshots = {**carried, **{table: snapshots[table] for table in written}}
                work.manifest.table_runs = {
                    **{k: carried_runs.get(k, previous.get("run_id", "")) for k in carried},
                    **dict.fromkeys(written, work.run_id),
                }
            gold_rows = {name: ctx.lake.added_rows(name, snapshots[name]) for name in GOLD}
            for slot in passing:
                by_slot[slot].manifest.counts["gold"] = {
                    name: rows.get(str(slot), 0) for name, rows in gold_rows.items()
                }
    live.unpersist()  # what the next group needs is its own
    silver.unpersist()
    for cleaned in cleaned_all:
        cleaned.unpersist()
    for work in works:
        work.manifest.timings_s.update(timings)


def _count_published_quarantine(ctx: Context, works: list[SlotWork]) -> None:
    """The rows of each kept slot's published quarantine (a slot whose run quarantined nothing has none)."""
    kept = {
        w.slot: int(w.previous["snapshots"][QUARANTINE.name])
        for w in works
        if w.raw_path is None and w.previous and QUARANTINE.name in w.previous.get("snapshots", {})
    }
    for work in works:
        if work.raw_path is None:
            work.manifest.counts["quarantine"] = 0
    if not kept:
        return
    owners = {w.slot: w.previous["run_id"] for w in works if w.previous}
    published = ctx.lake.read_at(QUARANTINE.name, kept, owners)
    rows = published.groupBy(_slot_of_partitions().alias(SLOT_KEY)).count().collect()
    by_slot = {w.slot: w for w in works}
    for row in rows:
        by_slot[RunSlot.parse(row[SLOT_KEY])].manifest.counts["quarantine"] = int(row["count"])


def _measure(ctx: Context, silver: DataFrame, live: DataFrame, works: list[SlotWork]) -> None:
    """Silver rows, newest position, coverage and airline-country sources of every slot (`live`: its enriched live
    flights)."""
    from etl.quality.coverage import airline_country_sources_by_slot, mapping_coverage_counts_by_slot

    by_slot = {w.slot: w for w in works}
    measured = silver.groupBy(SLOT_KEY).agg(F.count(F.lit(1)).alias("silver"), F.max("position_time").alias("newest"))
    for work in works:
        work.manifest.counts["silver"] = 0
    for row in measured.collect():
        work = by_slot[RunSlot.parse(row[SLOT_KEY])]
        work.manifest.counts["silver"] = int(row["silver"])
        if work.manifest.capture_time is None and row["newest"] is not None:
            work.manifest.capture_time = row["newest"].replace(tzinfo=timezone.utc)
    coverage = mapping_coverage_counts_by_slot(silver, ctx.refs, [str(w.slot) for w in works], live)
    sources = airline_country_sources_by_slot(silver, ctx.refs, live)
    for work in works:
        counts = coverage.get(str(work.slot), {})
        work.manifest.counts["live_flights"] = counts.get("_live", (0, 0))[0]
        work.manifest.counts["airline_country_sources"] = sources.get(str(work.slot), {})
        work.coverage_counts = counts


def _gate(ctx: Context, work: SlotWork) -> None:
    """The quality gate of one slot, and the rows-add-up check of a re-cleaned one; sets work.error on failure."""
    counts = work.manifest.counts
    silver_rows, quarantine_rows = counts.get("silver", 0), counts.get("quarantine", 0)
    raw_rows = counts.get("raw", silver_rows + quarantine_rows)
    inputs = inputs_from_counts(
        work.coverage_counts,
        raw_rows=raw_rows,
        silver_rows=silver_rows,
        quarantine_rows=quarantine_rows,
        missing_columns=work.missing_columns if ctx.config.quality.check_kpi_inputs else [],
    )
    work.manifest.mapping_coverage = dict(inputs.mapping_coverage)
    history = volume_history(
        ctx.storage,
        ctx.config.data_root,
        work.slot,
        runs=ctx.config.quality.volume_history_runs,
        before=work.manifest.started_at,
    )
    report = with_volume(evaluate(inputs, ctx.config.quality), inputs.live_flights, history, ctx.config.quality)
    work.report = report
    work.manifest.quality = {**report.to_dict(), "allow_degraded": ctx.config.quality.allow_degraded}
    log_event("quality_gate", run_slot=str(work.slot), passed=report.passed, failed=report.failed_names)
    if work.raw_path is not None and raw_rows != silver_rows + quarantine_rows:
        work.error = (
            f"DataQualityError: raw rows ({raw_rows}) != silver ({silver_rows}) + quarantine ({quarantine_rows}): "
            "rows were lost"
        )
    elif not report.passed and not ctx.config.quality.allow_degraded:
        work.error = f"QualityGateError: {report.one_line()}"


def finish(ctx: Context, works: list[SlotWork], *, metrics: bool) -> None:
    """Write each slot's manifest (published ones name their snapshots), then append them to the runs table."""
    for work in works:
        manifest = work.manifest
        if work.error is not None:
            manifest.status, manifest.error = FAILED, manifest.error or work.error
        elif manifest.status not in (FAILED,):
            manifest.status = SUCCEEDED if manifest.quality.get("passed", True) else DEGRADED
        write_manifest(ctx.storage, ctx.config, manifest, metrics=metrics)
    try:
        ctx.lake.append_runs([runs_row(w.manifest.to_dict()) for w in works])
    except Exception as exc:  # the manifests are written: the next run appends what is missing
        log_event("runs_table_not_written", logging.ERROR, error=first_line(exc))


def write_manifest(storage: Storage, config: JobConfig, manifest: Manifest, *, metrics: bool) -> None:
    manifest.finished_at = manifest.finished_at or datetime.now(timezone.utc)
    try:
        path = manifest.write(storage, config.data_root)
        log_event("manifest_written", path=path, status=manifest.status, run_slot=str(manifest.run_slot))
    except Exception as exc:  # the run's own error matters more than a manifest that could not be written
        log_event("manifest_not_written", logging.ERROR, error=str(exc))
    if metrics:
        record = manifest.to_dict()
        publish_alert(record, config.alerts_topic)  # first: metrics that cannot be published raise
        publish_run_metrics(record, config.metrics_namespace)


def runs_row(record: dict[str, Any]) -> dict[str, Any]:
    """A manifest as a row of the runs table."""
    import json

    slot = RunSlot.parse(record["run_slot"])
    counts = record.get("counts") or {}
    quality = record.get("quality") or {}
    checks = [
        {
            "name": c.get("name"),
            "value": None if c.get("value") is None else float(c["value"]),
            "threshold": None if c.get("threshold") is None else float(c["threshold"]),
            "passed": c.get("passed"),
            "detail": None if c.get("detail") is None else str(c.get("detail")),
        }
        for c in quality.get("checks") or []
    ]
    row = {
        "run_slot": record["run_slot"],
        "status": record["status"],
        "source": record.get("source"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "capture_time": record.get("capture_time"),
        "error": record.get("error"),
        "counts": {
            "raw": counts.get("raw"),
            "silver": counts.get("silver"),
            "quarantine": counts.get("quarantine"),
            "live_flights": counts.get("live_flights"),
            "gold": {k: int(v) for k, v in (counts.get("gold") or {}).items()},
        },
        "cleaning_rules": {k: int(v) for k, v in (record.get("cleaning_rules") or {}).items()},
        "extraction": json.dumps(record.get("extraction") or {}, sort_keys=True, default=str),
        "mapping_coverage": {
            k: (None if v is None else float(v)) for k, v in (record.get("mapping_coverage") or {}).items()
        },
        "quality": (
            {
                "passed": quality.get("passed"),
                "allow_degraded": quality.get("allow_degraded"),
                "failed": list(quality.get("failed") or []),
                "checks": checks,
            }
            if quality
            else None
        ),
        "timings_s": {k: float(v) for k, v in (record.get("timings_s") or {}).items()},
        "versions": {k: (None if v is None else str(v)) for k, v in (record.get("versions") or {}).items()},
        "snapshots": {k: int(v) for k, v in (record.get("snapshots") or {}).items()},
        RUN_ID: record["run_id"],
        **slot.partition_values,
    }
    return {c: row.get(c) for c in RUNS.columns}


def repair_lake(ctx: Context, by_run: str) -> None:
    """Roll back what dead runs left half-published, and append the runs table's missing rows."""

    def record_interrupted(run_id: str, slot: str, error: str) -> None:
        manifest = Manifest(run_id=run_id, run_slot=RunSlot.parse(slot), source="unknown", started_at=_started(run_id))
        manifest.status, manifest.error = FAILED, error
        write_manifest(ctx.storage, ctx.config, manifest, metrics=False)

    repair(ctx.lake, ctx.storage, ctx.config.data_root, by_run, record_interrupted)
    from etl.publication.manifest import read_manifests

    # The retained snapshots say which runs the table holds; a run that started before the oldest of them may be
    # in an expired one, and is left alone. A run id gives its start to the second: the run counts as started at
    # the end of that second (a run started in the second the previous run appended its row is a later run). A
    # table without any snapshot was never written (expiry always keeps the newest): every run is missing from it.
    recorded = ctx.lake.recorded_runs()
    oldest = ctx.lake.oldest_snapshot_ms(RUNS.name)
    missing = [
        m
        for m in read_manifests(ctx.storage, ctx.config.data_root)
        if m["run_id"] not in recorded and (oldest is None or (_started(m["run_id"]).timestamp() + 1) * 1000 > oldest)
    ]
    if missing:
        ctx.lake.append_runs([runs_row(m) for m in missing])
        log_event("runs_table_completed", runs=[m["run_id"] for m in missing])


def rollback(ctx: Context, works: list[SlotWork]) -> None:
    """After a failure in publication: roll back what these runs committed (best effort; else the next run does)."""
    runs = {w.run_id for w in works}
    try:
        repair(ctx.lake, ctx.storage, ctx.config.data_root, next(iter(runs)), lambda *_: None, dead=runs, only=runs)
    except Exception as exc:
        log_event("rollback_failed", logging.ERROR, error=first_line(exc))


def release_cache(spark: SparkSession) -> None:
    """Drop what the session keeps in memory; best effort: after a failure or an interrupt the session may be gone,
    and the run's own error is what must reach the caller."""
    try:
        spark.catalog.clearCache()
    except Exception as exc:
        log_event("cache_not_released", logging.WARNING, error=first_line(exc))


def _started(run_id: str) -> datetime:
    return run_started(run_id) or datetime.now(timezone.utc)


def run(
    config: JobConfig,
    *,
    spark: SparkSession | None = None,
    storage: Storage | None = None,
    feed: Feed | Mapping[str, Feed] | None = None,
) -> dict[str, Any]:
    """Run one slot end to end and return its manifest; on failure record a failed manifest and raise.

    Without `spark`, the job's session (build_spark) starts in the background as the run begins.
    """
    from etl.extract import extract_to_raw
    from etl.reference import load_references, prepare_references

    config.validate()
    storage = storage or storage_for(config.data_root)
    started = datetime.now(timezone.utc)
    manifest = Manifest(
        run_id=new_run_id(config.run_slot, started),
        run_slot=config.run_slot,
        source=canonical_source(config.source),  # until a source serves the run
        started_at=started,
        config=config.to_dict(),
    )
    bind_run_id(manifest.run_id)
    log_event("run_started", run_slot=str(config.run_slot), source=config.source, data_root=config.data_root)
    total_started = time.perf_counter()
    work = SlotWork(config.run_slot, manifest)
    ctx: Context | None = None
    refuse_pointer_layout(storage, config.data_root)
    starting = None
    with running(config.data_root, manifest.run_id):
        try:
            if spark is None:
                require_java()  # now: the JVM's own failure would come after the extraction
                starting = SparkStart(config)
            with timed(manifest.timings_s, "extract"):
                landing = extract_to_raw(config, storage, feed=feed, run_id=manifest.run_id)
            manifest.capture_time = landing.capture_time
            manifest.extraction = landing.stats.to_dict()
            manifest.source = landing.stats.source  # with failover, the source that served the run
            manifest.outputs["raw"] = landing.raw_flights_path
            work.raw_path, work.raw_header = landing.raw_flights_path, landing.raw_columns
            work.missing_columns = list(manifest.extraction.get("snapshot_missing_optional") or [])

            with timed(manifest.timings_s, "spark_start"):
                if starting is not None:
                    prepare_references()  # in Python, while the JVM is still starting
                    spark, lake = starting.result()
                else:
                    assert spark is not None  # given, since nothing was started
                    lake = open_lake(spark, config)
                manifest.versions = versions(spark.version)
                refs = load_references(
                    spark,
                    airports_csv=landing.airports_path,
                    airlines_csv=landing.airlines_path,
                    read=storage.read_bytes,
                )
                manifest.reference_sources = dict(refs.sources)
                ctx = Context(config, spark, lake, storage, refs)
                repair_lake(ctx, manifest.run_id)
            work.previous = published_by_slot(storage, config.data_root).get(str(config.run_slot))
            try:
                process(ctx, [work])
            except Exception:
                rollback(ctx, [work])
                raise
            if work.error is not None and work.report is not None and not work.error.startswith("DataQuality"):
                raise QualityGateError(work.report)
            if work.error is not None:
                raise DataQualityError(work.error.split(": ", 1)[1])
        except BaseException as exc:
            from etl.extract.failover import failed_extraction

            interrupted = isinstance(exc, KeyboardInterrupt)
            manifest.status = FAILED
            manifest.error = "interrupted (SIGINT)" if interrupted else f"{type(exc).__name__}: {exc}".splitlines()[0]
            manifest.extraction = manifest.extraction or failed_extraction(exc)
            manifest.timings_s["total"] = round(time.perf_counter() - total_started, 3)
            # Interrupted, Spark's connection may be cut mid-call: the manifest alone is written, and the next run
            # rolls back what this one committed and appends its row to the runs table (repair_lake).
            if ctx is not None and not interrupted:
                finish(ctx, [work], metrics=True)
            else:
                write_manifest(storage, config, manifest, metrics=True)
            log_event("run_failed", logging.ERROR, error=manifest.error)
            raise
        finally:
            # What clean and the KPIs kept in memory is of no use to the next run; after an interrupt, Spark is left
            # alone (its connection may be cut mid-call).
            if spark is not None and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
                release_cache(spark)
        manifest.timings_s["total"] = round(time.perf_counter() - total_started, 3)
        finish(ctx, [work], metrics=True)
    log_event(f"run_{manifest.status}", counts=manifest.counts, seconds=manifest.timings_s.get("total"))
    return manifest.to_dict()


__all__ = [
    "PARTITION_COLUMNS",
    "Context",
    "DataQualityError",
    "QualityGateError",
    "SlotWork",
    "SparkStart",
    "build_spark",
    "finish",
    "open_lake",
    "process",
    "release_cache",
    "repair_lake",
    "run",
]
