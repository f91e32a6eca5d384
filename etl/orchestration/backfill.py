"""Backfill: recompute the slots of a range in one Spark job, through the same orchestration as a run.

- Which slots: those in [first, last] (both included) with a published run; with `from_raw`, also those with a raw
  capture, and every slot whose capture is still there is re-cleaned (silver + quarantine + gold) from it: the
  capture its published run names, else the slot's newest. The others get their gold recomputed from the silver
  their published run names (read at that snapshot).
- How: `etl.orchestration.pipeline.process`, the scheduled run's own path, for groups of slots in order: one read of the
  group's silver, their figures in one pass, the quality gate per slot (the job config's `quality` section), the KPIs
  grouped by slot, one Iceberg commit per table for every slot that passed, one manifest per slot. A group holds at most
  SLOTS_PER_GROUP slots (a day of the schedule), their captures read in one scan and cleaned in one pass. When a
  group fails as a
  whole, it is split in halves until the slot that breaks it stands alone; if two slots fail alone before any succeeds,
  the failure is taken as not one slot's and the backfill stops.
- References: the newest airports and airlines snapshots under raw/reference (else the packaged lists), the same
  for every slot: a backfill recomputes history with today's knowledge, and the manifest names what it used.
- Manifests: one per slot, `source` "backfill", the backfill id in `config`. A backfill publishes no CloudWatch
  success metric: that metric says the schedule is alive, which a backfill does not show.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession

from etl.core.config import ConfigError, JobConfig, LakeSettings, QualitySettings
from etl.core.errors import JobError
from etl.core.layout import RAW_FLIGHTS, RAW_REFERENCE, RunSlot, join, manifest_path, raw_flights_dir
from etl.core.log import bind_run_id, log_event
from etl.core.storage import Storage, storage_for
from etl.orchestration.pipeline import (
    Context,
    SlotWork,
    build_spark,
    finish,
    open_lake,
    process,
    release_cache,
    repair_lake,
    rollback,
)
from etl.publication.lake import refuse_pointer_layout
from etl.publication.manifest import Manifest, new_run_id, versions
from etl.publication.publish import published_by_slot

SOURCE = "backfill"
SLOTS_PER_GROUP = 12  # slots computed and committed together (see the module's docstring)
LAYERS = ("gold",)  # the layer recomputed from silver; `from_raw` adds silver and quarantine where raw is kept
_RAW_RE = re.compile(r"/tech_day=(\d{4}-\d{2}-\d{2})/tech_hour=(\d{2})/([^/]+\.csv(?:\.gz)?)$")
_REFERENCE_RE = re.compile(r"/tech_day=(\d{4}-\d{2}-\d{2})/([^/]+)\.csv$")

Progress = Callable[[str, int, int], None]  # (stage, done, total): "clean" slots, "publish" tables


class BackfillAborted(JobError):
    """The backfill stopped before computing every slot: the failure is not one slot's."""


@dataclass(frozen=True)
class BackfillConfig:
    """A range of run slots to recompute under one data root."""

    data_root: str
    first: RunSlot
    last: RunSlot
    from_raw: bool = False
    layer: str = "gold"
    spark_master: str | None = None  # None: whatever spark-submit or the environment says
    quality: QualitySettings = field(default_factory=QualitySettings)  # the job config's gate, as a run's
    lake: LakeSettings = field(default_factory=LakeSettings)

    @classmethod
    def parse(cls, data_root: str, first: str, last: str, **options: Any) -> BackfillConfig:
        """From text slots (`YYYY-MM-DDTHH`); raise ConfigError or RunSlotError with a one-line message."""
        return cls(data_root, RunSlot.parse(first), RunSlot.parse(last), **options).validate()

    def validate(self) -> BackfillConfig:
        """Raise ConfigError naming the first bad value; return self."""
        if not self.data_root:
            raise ConfigError("data_root is empty: give a local folder or an s3:// URI")
        if self.first > self.last:
            raise ConfigError(f"backfill range is empty: from {self.first} is after to {self.last}")
        if self.layer not in LAYERS:
            raise ConfigError(f"layer {self.layer!r} is not one of {', '.join(LAYERS)}")
        self.quality.validate()
        self.lake.validate()
        return self

    def job(self) -> JobConfig:
        """The job config the shared orchestration reads: the data root, the gate and the lake."""
        return JobConfig(
            data_root=self.data_root,
            run_slot=self.first,
            spark_master=self.spark_master,
            quality=self.quality,
            lake=self.lake,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, for the manifests."""
        return {**asdict(self), "first": str(self.first), "last": str(self.last)}


@dataclass
class BackfillReport:
    """What a backfill did: every slot of the range it found, published or failed (with why)."""

    backfill_id: str
    first: RunSlot
    last: RunSlot
    slots: list[RunSlot]
    published: list[RunSlot] = field(default_factory=list)
    degraded: dict[RunSlot, str] = field(default_factory=dict)  # published although the gate failed (allow_degraded)
    failed: dict[RunSlot, str] = field(default_factory=dict)
    manifests: dict[RunSlot, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every slot found was published."""
        return not self.failed


def raw_captures(storage: Storage, data_root: str, first: RunSlot, last: RunSlot) -> dict[RunSlot, list[str]]:
    """Slot -> its raw captures (`<run_id>.csv`, oldest first) in [first, last]."""
    found: dict[RunSlot, list[str]] = {}
    for path in storage.list_files(join(data_root, RAW_FLIGHTS)):
        match = _RAW_RE.search(path)
        if not match or match.group(3).startswith(("_", ".")):
            continue
        slot = RunSlot.parse(f"{match.group(1)}T{match.group(2)}")
        if first <= slot <= last and path.startswith(raw_flights_dir(data_root, slot)):
            found.setdefault(slot, []).append(path)
    return {slot: sorted(paths) for slot, paths in found.items()}


def newest_reference(storage: Storage, data_root: str, name: str) -> str | None:
    """The newest `raw/reference/<name>/tech_day=<day>/<name>.csv`, or None."""
    days = {}
    for path in storage.list_files(join(data_root, RAW_REFERENCE, name)):
        match = _REFERENCE_RE.search(path)
        if match and match.group(2) == name:
            days[match.group(1)] = path
    return days[max(days)] if days else None


def _one_line(exc: BaseException) -> str:
    """`Type: message` on one line; for a JVM error, its root cause (py4j's own first line names only the call)."""
    name, text = type(exc).__name__, str(exc)
    cause = getattr(exc, "java_exception", None)
    if cause is not None:
        try:
            while cause.getCause() is not None:
                cause = cause.getCause()
            name, text = "SparkError", str(cause.toString())
        except Exception:  # the JVM is gone: py4j's own text is all there is
            pass
    lines = text.strip().splitlines()
    return f"{name}: {lines[0] if lines else ''}"[:500]


@dataclass
class _Plan:
    """What each slot starts from: its published run (if any) and the capture to re-clean (if any)."""

    published: dict[str, dict[str, Any]]
    raw: dict[RunSlot, str]


def backfill(
    config: BackfillConfig,
    *,
    spark: SparkSession | None = None,
    storage: Storage | None = None,
    progress: Progress | None = None,
) -> BackfillReport:
    """Recompute every slot of the range that has a published run (or raw, with from_raw); see the docstring."""
    from etl.reference import load_references

    config.validate()
    root = config.data_root
    storage = storage or storage_for(root)
    started = datetime.now(timezone.utc)
    total_started = time.perf_counter()
    backfill_id = f"backfill-{config.first.start:%Y%m%dT%H}-{config.last.start:%Y%m%dT%H}-{uuid.uuid4().hex[:6]}"
    bind_run_id(backfill_id)
    refuse_pointer_layout(storage, root)
    job = config.job()
    spark = spark or build_spark(job)
    lake = open_lake(spark, job)
    airports, airlines = newest_reference(storage, root, "airports"), newest_reference(storage, root, "airlines")
    refs = load_references(spark, airports_csv=airports, airlines_csv=airlines, read=storage.read_bytes)
    ctx = Context(job, spark, lake, storage, refs, progress or (lambda _stage, _done, _total: None))
    # What a killed run or backfill left half-published is rolled back first, so each slot starts whole.
    repair_lake(ctx, backfill_id)

    published = {
        slot: m
        for slot, m in published_by_slot(storage, root).items()
        if config.first <= RunSlot.parse(slot) <= config.last
    }
    raw: dict[RunSlot, str] = {}
    if config.from_raw:
        for slot, paths in raw_captures(storage, root, config.first, config.last).items():
            named = (published.get(str(slot)) or {}).get("outputs", {}).get("raw")
            raw[slot] = named if named in paths else paths[-1]
    slots = sorted({RunSlot.parse(s) for s in published} | set(raw))
    log_event("backfill_started", first=str(config.first), last=str(config.last), slots=len(slots), root=root)
    if not slots:
        kind = "a published run or raw" if config.from_raw else "a published run"
        raise JobError(f"no slot between {config.first} and {config.last} has {kind} under {root}")

    report = BackfillReport(backfill_id, config.first, config.last, slots)
    plan = _Plan(published, raw)
    try:
        _run_isolating(ctx, config, plan, slots, report, backfill_id, started)
    finally:
        release_cache(spark)
    report.timings_s["total"] = round(time.perf_counter() - total_started, 3)
    log_event(
        "backfill_finished",
        published=len(report.published),
        degraded={str(s): e for s, e in report.degraded.items()},
        failed={str(s): e for s, e in report.failed.items()},
        seconds=report.timings_s["total"],
    )
    return report


def _works(
    ctx: Context, config: BackfillConfig, plan: _Plan, slots: list[RunSlot], backfill_id: str, started: datetime
) -> list[SlotWork]:
    works = []
    for slot in slots:
        previous = plan.published.get(str(slot))
        manifest = Manifest(
            run_id=new_run_id(slot, started),
            run_slot=slot,
            source=SOURCE,
            started_at=started,
            config={**config.to_dict(), "backfill_id": backfill_id},
            reference_sources=dict(ctx.refs.sources),
            versions=versions(ctx.spark.version),
        )
        missing = list(((previous or {}).get("extraction") or {}).get("snapshot_missing_optional") or [])
        if missing:  # carried forward, so that a later backfill of the slot judges it the same
            manifest.extraction = {"snapshot_missing_optional": missing}
        raw_path = plan.raw.get(slot)
        if raw_path is not None:
            manifest.outputs["raw"] = raw_path
        else:
            manifest.capture_time = None
        works.append(SlotWork(slot, manifest, raw_path=raw_path, previous=previous, missing_columns=missing))
    return works


def _groups(slots: list[RunSlot]) -> list[list[RunSlot]]:
    """The slots in order, cut into groups of at most SLOTS_PER_GROUP."""
    return [slots[start : start + SLOTS_PER_GROUP] for start in range(0, len(slots), SLOTS_PER_GROUP)]


def _run_isolating(
    ctx: Context,
    config: BackfillConfig,
    plan: _Plan,
    slots: list[RunSlot],
    report: BackfillReport,
    backfill_id: str,
    started: datetime,
) -> None:
    """Process the slots in as few groups as allowed; a failing group is halved until its culprit stands alone."""
    failed_alone = 0
    pending = _groups(slots)
    while pending:
        group = pending.pop(0)
        works = _works(ctx, config, plan, group, backfill_id, started)
        try:
            process(ctx, works)
        except Exception as exc:  # any failure of the group: find the slot(s) it comes from
            rollback(ctx, works)
            error = _one_line(exc)
            log_event("group_failed", logging.WARNING, slots=len(group), first=str(group[0]), error=error)
            if len(group) > 1:
                middle = len(group) // 2
                pending[:0] = [group[:middle], group[middle:]]
                continue
            works[0].error = error
            failed_alone += 1
            if failed_alone >= 2 and not report.published:
                _record(ctx, report, works)
                raise BackfillAborted(
                    f"slots {', '.join(map(str, report.failed))} each failed alone and none succeeded: {error}"
                ) from exc
        _record(ctx, report, works)


def _record(ctx: Context, report: BackfillReport, works: list[SlotWork]) -> None:
    """Write the group's manifests and note each slot's outcome in the report."""
    for work in works:
        work.manifest.finished_at = datetime.now(timezone.utc)
        work.manifest.timings_s["total"] = round(
            (work.manifest.finished_at - work.manifest.started_at).total_seconds(), 3
        )
    finish(ctx, works, metrics=False)
    for work in works:
        slot, manifest = work.slot, work.manifest
        report.manifests[slot] = manifest_path(ctx.config.data_root, manifest.run_id)
        if work.error is not None:
            report.failed[slot] = manifest.error or work.error
        else:
            report.published.append(slot)
            if manifest.status == "degraded" and work.report is not None:
                report.degraded[slot] = work.report.one_line()
        log_event(
            "slot_published" if work.error is None else "slot_failed",
            logging.INFO if work.error is None else logging.ERROR,
            run_slot=str(slot),
            slot_run_id=manifest.run_id,
            error=work.error,
        )
