"""The job: extract a world snapshot to raw, clean it to silver, compute the gold KPIs, publish, record the run."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession

from etl.columns import GOLD_TABLES
from etl.config import JobConfig, canonical_source
from etl.errors import JobError
from etl.extract import extract_to_raw
from etl.extract.feed import Feed
from etl.log import bind_run_id, log_event
from etl.manifest import DEGRADED, FAILED, SUCCEEDED, Manifest, new_run_id, versions
from etl.metrics import STATUS_METRICS, publish_alert, publish_run_metrics
from etl.quality import QualityReport
from etl.spark_session import SPARK_SETTINGS, session_builder
from etl.storage import Storage, storage_for

SUCCESS_METRIC = STATUS_METRICS[SUCCEEDED]


class DataQualityError(JobError):
    """The stages' counts do not add up: a row was lost or invented."""


class QualityGateError(JobError):
    """The quality gate failed: nothing of the run is published; `report` holds every check."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__(report.one_line())
        self.report = report


def build_spark(config: JobConfig) -> SparkSession:
    """The job's Spark session (etl.spark_session.SPARK_SETTINGS), on config.spark_master when one is set."""
    return session_builder(f"flight-kpis-{config.run_slot}", config.spark_master, SPARK_SETTINGS).getOrCreate()


@contextmanager
def _timed(manifest: Manifest, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    log_event("stage_started", stage=stage)
    try:
        yield
    finally:
        manifest.timings_s[stage] = round(time.perf_counter() - started, 3)
        log_event("stage_finished", stage=stage, seconds=manifest.timings_s[stage])


def run(
    config: JobConfig,
    *,
    spark: SparkSession | None = None,
    storage: Storage | None = None,
    feed: Feed | Mapping[str, Feed] | None = None,
) -> dict[str, Any]:
    """Run one slot end to end and return its manifest; on failure record a failed manifest and raise."""
    # Imported here so that `etl extract` and the trigger-side tools do not pay for Spark's modules.
    from etl.clean import clean_flights, read_raw_flights
    from etl.kpis import airline_country_sources, compute_kpis
    from etl.load import Publication, recover_publications
    from etl.quality import evaluate, measure_inputs
    from etl.reference import load_references

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
    publication = Publication(storage, config.data_root, manifest.run_id, config.run_slot)
    total_started = time.perf_counter()
    try:
        # A publication a killed or failed run left half-way is completed before anything else.
        recover_publications(storage, config.data_root)
        with _timed(manifest, "extract"):
            landing = extract_to_raw(config, storage, feed=feed)
        manifest.capture_time = landing.capture_time
        manifest.extraction = landing.stats.to_dict()
        manifest.source = landing.stats.source  # with failover, the source that served the run
        manifest.outputs["raw"] = landing.raw_flights_path

        with _timed(manifest, "spark_start"):
            spark = spark or build_spark(config)
        manifest.versions = versions(spark.version)

        with _timed(manifest, "clean"):
            raw = read_raw_flights(spark, landing.raw_flights_path)
            cleaned = clean_flights(raw)
            # clean_flights keeps its typed rows in memory: silver reads from there, so a second cache would
            # only copy it again.
            silver = cleaned.silver
            publication.stage(silver, "silver", "flights")
            publication.stage(cleaned.quarantine, "quarantine", "flights")
            raw_rows = raw.count()
            silver_rows = silver.count()
            quarantine_rows = spark.read.parquet(publication.staged["quarantine/flights"]).count()
            manifest.cleaning_rules = dict(cleaned.rule_counts)
            manifest.counts.update(raw=raw_rows, silver=silver_rows, quarantine=quarantine_rows)
            if raw_rows != silver_rows + quarantine_rows:
                raise DataQualityError(
                    f"raw rows ({raw_rows}) != silver ({silver_rows}) + quarantine ({quarantine_rows}): rows were lost"
                )

        with _timed(manifest, "kpis"):
            refs = load_references(spark, airports_csv=landing.airports_path, airlines_csv=landing.airlines_path)
            manifest.reference_sources = dict(refs.sources)
            gold = compute_kpis(silver, refs)
            missing = [name for name in GOLD_TABLES if name not in gold]
            if missing:
                raise JobError(f"KPI tables not computed: {', '.join(missing)}")
            gold_rows = {}
            for name in GOLD_TABLES:
                path = publication.stage(gold[name], "gold", name)
                gold_rows[name] = spark.read.parquet(path).count()
            manifest.counts["gold"] = gold_rows
            manifest.counts["airline_country_sources"] = airline_country_sources(silver, refs)

        with _timed(manifest, "quality"):
            inputs = measure_inputs(
                silver,
                refs,
                raw_rows=raw_rows,
                quarantine_rows=quarantine_rows,
                missing_columns=_missing_columns(manifest.extraction, config),
            )
            manifest.mapping_coverage = dict(inputs.mapping_coverage)
            manifest.counts["live_flights"] = inputs.live_flights
            report = evaluate(inputs, config.quality)
            manifest.quality = {**report.to_dict(), "allow_degraded": config.quality.allow_degraded}
            log_event("quality_gate", passed=report.passed, failed=report.failed_names)
            if not report.passed and not config.quality.allow_degraded:
                raise QualityGateError(report)

        with _timed(manifest, "publish"):
            published = publication.commit()
        manifest.outputs.update(published)
    except BaseException as exc:
        publication.discard()
        manifest.status = FAILED
        manifest.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        _finish(manifest, storage, config, total_started)
        log_event("run_failed", logging.ERROR, error=manifest.error)
        raise
    finally:
        if spark is not None:
            spark.catalog.clearCache()  # what clean and the KPIs kept in memory is of no use to the next run
    manifest.status = SUCCEEDED if manifest.quality.get("passed", True) else DEGRADED
    _finish(manifest, storage, config, total_started)
    log_event(f"run_{manifest.status}", counts=manifest.counts, seconds=manifest.timings_s.get("total"))
    return manifest.to_dict()


def _missing_columns(extraction: dict[str, Any], config: JobConfig) -> list[str]:
    """Capture columns a KPI needs that the capture lacks (snapshots only: the feed always sends all 19)."""
    if not config.quality.check_kpi_inputs:
        return []
    return list(extraction.get("snapshot_missing_optional") or [])


def _finish(manifest: Manifest, storage: Storage, config: JobConfig, total_started: float) -> None:
    manifest.finished_at = datetime.now(timezone.utc)
    manifest.timings_s["total"] = round(time.perf_counter() - total_started, 3)
    try:
        path = manifest.write(storage, config.data_root)
        log_event("manifest_written", path=path, status=manifest.status)
    except Exception as exc:  # the run's own error matters more than a manifest that could not be written
        log_event("manifest_not_written", logging.ERROR, error=str(exc))
    record = manifest.to_dict()
    publish_run_metrics(record, config.metrics_namespace)
    publish_alert(record, config.alerts_topic)
