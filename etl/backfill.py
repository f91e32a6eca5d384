"""Backfill: recompute the slots of a range in one Spark job, each slot published on its own with its own manifest.

What a backfill does, and the decisions behind it:
- Which slots: those in [first, last] (both included) whose silver is published (a pointer); with `from_raw`,
  those that still have raw are re-cleaned (silver + quarantine + gold) and the others get their gold recomputed
  from silver.
- One job: every slot's silver is read together (`etl.tables.read_slots`: one scan of every file the slots'
  pointers list), tagged with its slot (`etl.enrich.SLOT_KEY`), and each KPI is computed per slot (grouped and
  window-partitioned by the slot, never one sort over the whole range; airline countries from registrations too,
  per slot). Each gold table is written once for all slots, one folder per slot, then every slot is staged and
  committed by its own `Publication` (the run's own data folders, a journal, then the slot's pointers), so each
  slot is swapped in atomically and alone, and a backfill killed while publishing is rolled forward by the next
  run or backfill. Re-cleaning runs clean per slot in the same session: clean's duplicate rule is per snapshot and
  keys on the flight id alone, which FR24 keeps across slots.
- References: the newest airports and airlines snapshots under raw/reference (else the packaged lists), the same
  for every slot: a backfill recomputes history with today's knowledge, and the manifest names what it used.
- Each slot passes the same quality gate as a scheduled run: `etl.quality.evaluate` with the job config's
  `quality` settings, on the slot's own figures (`SlotFigures.quality_inputs`). A slot that fails it, or whose
  rows cannot be read, is reported with a failed manifest and its published partitions are left as they were;
  with `allow_degraded` a slot that fails only the gate is published with status `degraded`, as a run would be.
  When the job fails as a whole, the slots are split in halves until the slot that breaks it stands alone; if two
  slots fail alone before any succeeds, the failure is taken as not one slot's and the backfill stops.
- The gate's figures when gold is recomputed from silver: the quarantine share is the published quarantine's rows
  over silver + quarantine (the rows the slot's raw had, since a run publishes both or neither), and the columns
  the capture lacked are those the manifest of the run that published the silver recorded (carried forward in
  each backfill manifest's `extraction`).
- Manifests: one per slot, `source` "backfill", the backfill id in `config`, the gate's verdict in `quality`. A
  backfill publishes no CloudWatch success metric: that metric says the schedule is alive, which a backfill does
  not show.
- Scratch: every slot's gold is first written once under `_publish/backfill/<backfill id>/`, the job's own prefix
  on S3, and removed when the backfill ends.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import reduce
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.columns import (
    GOLD_SCHEMAS,
    GOLD_TABLES,
    QUARANTINE_REASON,
    QUARANTINE_SCHEMA,
    RAW_COLUMNS,
    SILVER_FLIGHTS_SCHEMA,
)
from etl.config import ConfigError, JobConfig, QualitySettings
from etl.enrich import SLOT_KEY
from etl.errors import JobError
from etl.layout import (
    POINTER_NAME,
    RunSlot,
    backfill_scratch_dir,
    join,
    manifest_path,
    raw_flights_dir,
    table_data_dir,
    table_root,
)
from etl.load import Publication, recover_publications
from etl.log import bind_run_id, log_event
from etl.manifest import DEGRADED, FAILED, SUCCEEDED, Manifest, new_run_id, versions
from etl.quality import QualityInputs, evaluate, inputs_from_counts
from etl.reference import References
from etl.storage import Storage, storage_for
from etl.tables import TableNotPublishedError, current_files, read_slots, run_of

SOURCE = "backfill"
LAYERS = ("gold",)  # the layer recomputed from silver; `from_raw` adds silver and quarantine where raw is kept
_PARTITION_RE = re.compile(
    r"/tech_year=\d{4}/tech_month=\d{4}-\d{2}/tech_day=(\d{4}-\d{2}-\d{2})/tech_hour=(\d{2})/([^/]+)$"
)
_REFERENCE_RE = re.compile(r"/tech_day=(\d{4}-\d{2}-\d{2})/([^/]+)\.csv$")

Progress = Callable[[str, int, int], None]  # (stage, done, total): "clean" slots, "kpis" tables, "publish" slots


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
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, for the manifests."""
        return {**asdict(self), "first": str(self.first), "last": str(self.last)}


@dataclass
class SlotFigures:
    """What one slot's rows measure: the quality gate's inputs and the manifest's counts."""

    silver_rows: int = 0
    gold_rows: dict[str, int] = field(default_factory=dict)
    coverage_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # etl.kpis.mapping_coverage_counts
    airline_country_sources: dict[str, int] = field(default_factory=dict)
    capture_time: datetime | None = None  # newest position time in silver
    raw_rows: int | None = None  # re-cleaned slots only
    quarantine_rows: int | None = None
    published_quarantine_rows: int = 0  # gold-only slots: the quarantine published with their silver
    cleaning_rules: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)  # capture columns the capture lacked

    @property
    def live_flights(self) -> int:
        """Airborne aircraft: the coverage counts' `_live`, as a run counts them."""
        return self.coverage_counts.get("_live", (0, 0))[0]

    def quality_inputs(self) -> QualityInputs:
        """The gate's figures, as a run measures them; see the module docstring for a slot whose raw is not read."""
        quarantine = self.quarantine_rows if self.quarantine_rows is not None else self.published_quarantine_rows
        raw = self.raw_rows if self.raw_rows is not None else self.silver_rows + quarantine
        return inputs_from_counts(
            self.coverage_counts,
            raw_rows=raw,
            silver_rows=self.silver_rows,
            quarantine_rows=quarantine,
            missing_columns=self.missing_columns,
        )

    def counts(self) -> dict[str, Any]:
        """The manifest's `counts`, as a scheduled run records them."""
        counts: dict[str, Any] = {
            "silver": self.silver_rows,
            "live_flights": self.live_flights,
            "gold": self.gold_rows,
            "airline_country_sources": self.airline_country_sources,
        }
        if self.raw_rows is not None:
            counts.update(raw=self.raw_rows, quarantine=self.quarantine_rows)
        return counts


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


def slots_with_files(
    storage: Storage, table_dir: str, first: RunSlot, last: RunSlot, suffixes: tuple[str, ...]
) -> list[RunSlot]:
    """Slots in [first, last] whose partition under `table_dir` holds a file ending with one of `suffixes`.

    A published table's partition holds its pointer (`symlink.txt`); a raw partition holds the capture itself.
    """
    found = set()
    for year, month in _months(first, last):
        prefix = join(table_dir, f"tech_year={year:04d}", f"tech_month={year:04d}-{month:02d}")
        for path in storage.list_files(prefix):
            match = _PARTITION_RE.search(path)
            # Spark's side files (_SUCCESS, .crc) and hidden files are no data. A table's run folders live under its
            # `data/` folder, which the pattern (tech_year right under table_dir) does not match.
            if match and match.group(3).endswith(suffixes) and not match.group(3).startswith(("_", ".")):
                slot = RunSlot.parse(f"{match.group(1)}T{match.group(2)}")
                if first <= slot <= last:
                    found.add(slot)
    return sorted(found)


def _months(first: RunSlot, last: RunSlot) -> Iterable[tuple[int, int]]:
    year, month = first.start.year, first.start.month
    while (year, month) <= (last.start.year, last.start.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def read_silver(spark: SparkSession, data_root: str, slots: list[RunSlot], storage: Storage) -> DataFrame:
    """The published silver rows of `slots`, read together in one scan, each tagged with its slot in SLOT_KEY.

    Read through `etl.tables.read_slots`: the files each slot's pointer lists, as every reader of published tables.
    """
    schema = ", ".join(f"`{c}` {t}" for c, t in SILVER_FLIGHTS_SCHEMA.items())
    frame = read_slots(spark, data_root, "silver", "flights", slots, schema, SLOT_KEY, storage=storage)
    return frame.select(*SILVER_FLIGHTS_SCHEMA, SLOT_KEY)


def newest_reference(storage: Storage, data_root: str, name: str) -> str | None:
    """The newest `raw/reference/<name>/tech_day=<day>/<name>.csv`, or None."""
    days = {}
    for path in storage.list_files(join(data_root, "raw/reference", name)):
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
class _Run:
    """The state a backfill shares between its stages."""

    config: BackfillConfig
    spark: SparkSession
    storage: Storage
    refs: References
    backfill_id: str
    started: datetime
    raw_slots: set[RunSlot]
    publications: dict[RunSlot, Publication]
    progress: Progress
    scratch: str
    groups: int = 0

    def compute(self, slots: list[RunSlot]) -> dict[RunSlot, tuple[SlotFigures, dict[str, str | None]]]:
        """Read and compute one group of slots; per slot its figures and where its gold tables were written."""
        from etl.kpis import airline_country_sources_by_slot, compute_kpis, mapping_coverage_counts_by_slot

        self.groups += 1
        scratch = join(self.scratch, f"group-{self.groups}")
        figures = {slot: SlotFigures() for slot in slots}
        parts = []
        kept = [s for s in slots if s not in self.raw_slots]
        if kept:
            parts.append(read_silver(self.spark, self.config.data_root, kept, self.storage))
            self._count_published_quarantine(kept, figures)
        recleaned = [s for s in slots if s in self.raw_slots]
        for done, slot in enumerate(recleaned, start=1):
            parts.append(self._reclean(slot, figures[slot]))
            self.progress("clean", done, len(recleaned))
        if recleaned:
            self._count_recleaned(recleaned, figures)
        # Kept in memory (spilling to disk) as a scheduled run keeps its cleaned rows: the figures, the coverage, the
        # airline countries and the KPIs each read it, and without this each would read every slot's files again.
        silver = reduce(DataFrame.unionByName, parts).persist(StorageLevel.MEMORY_AND_DISK)

        measured = silver.groupBy(SLOT_KEY).agg(
            F.count(F.lit(1)).alias("silver"), F.max("position_time").alias("newest")
        )
        for row in measured.collect():
            slot_figures = figures[RunSlot.parse(row[SLOT_KEY])]
            slot_figures.silver_rows = int(row["silver"])
            newest = row["newest"]
            slot_figures.capture_time = newest.replace(tzinfo=timezone.utc) if newest is not None else None
        for key, counts in mapping_coverage_counts_by_slot(silver, self.refs, [str(s) for s in slots]).items():
            figures[RunSlot.parse(key)].coverage_counts = counts
        if self.config.quality.check_kpi_inputs:
            for slot in slots:
                figures[slot].missing_columns = self.missing_columns(slot)
        for key, sources in airline_country_sources_by_slot(silver, self.refs).items():
            figures[RunSlot.parse(key)].airline_country_sources = sources

        gold = compute_kpis(silver, self.refs)
        for done, name in enumerate(GOLD_TABLES, start=1):
            # One folder per slot, one file per slot and table (a slot's table is small), as a single run writes.
            gold[name].repartition(SLOT_KEY).write.mode("overwrite").partitionBy(SLOT_KEY).parquet(
                join(scratch, "gold", name)
            )
            self.progress("kpis", done, len(GOLD_TABLES))
        written = [
            self.spark.read.schema(f"`{SLOT_KEY}` string")
            .parquet(join(scratch, "gold", name))
            .select(F.lit(name).alias("table"), SLOT_KEY)
            for name in GOLD_TABLES
        ]
        counted = reduce(DataFrame.unionByName, written).groupBy("table", SLOT_KEY).count().collect()
        for slot_figures in figures.values():
            slot_figures.gold_rows = dict.fromkeys(GOLD_TABLES, 0)
        for row in counted:
            figures[RunSlot.parse(row[SLOT_KEY])].gold_rows[row["table"]] = int(row["count"])
        return {
            slot: (
                figures[slot],
                {
                    name: join(scratch, "gold", name, f"{SLOT_KEY}={slot}") if figures[slot].gold_rows[name] else None
                    for name in GOLD_TABLES
                },
            )
            for slot in slots
        }

    def _reclean(self, slot: RunSlot, figures: SlotFigures) -> DataFrame:
        """Clean one slot's raw rows into its own Publication's staging; its silver rows, tagged with the slot."""
        from etl.clean import clean_flights, read_raw_flights

        publication = self.publications[slot]
        raw = read_raw_flights(self.spark, raw_flights_dir(self.config.data_root, slot))
        cleaned = clean_flights(raw)
        publication.stage(cleaned.silver, "silver", "flights")
        publication.stage(cleaned.quarantine, "quarantine", "flights")
        figures.cleaning_rules = dict(cleaned.rule_counts)
        return cleaned.silver.withColumn(SLOT_KEY, F.lit(str(slot)))

    def _count_published_quarantine(self, slots: list[RunSlot], figures: dict[RunSlot, SlotFigures]) -> None:
        """The rows of each slot's published quarantine (a slot without one has none), in one Spark job."""
        root, schema = self.config.data_root, f"`{QUARANTINE_REASON}` string"
        try:
            quarantine = read_slots(self.spark, root, "quarantine", "flights", slots, schema, SLOT_KEY, self.storage)
        except TableNotPublishedError:
            return
        for row in quarantine.groupBy(SLOT_KEY).count().collect():
            figures[RunSlot.parse(row[SLOT_KEY])].published_quarantine_rows = int(row["count"])

    def missing_columns(self, slot: RunSlot) -> list[str]:
        """The capture columns the slot's capture lacked, as the run that published its silver recorded them.

        A slot whose silver was never published (re-cleaned from raw only) or whose run left no manifest: none known.
        """
        run_id = run_of(current_files(self.storage, self.config.data_root, "silver", "flights", slot) or [])
        if run_id is None:
            return []
        found = self.storage.read_tagged(manifest_path(self.config.data_root, run_id))
        try:
            record = json.loads(found[0]) if found is not None else {}
        except ValueError as exc:
            log_event("manifest_not_read", logging.WARNING, run_slot=str(slot), run=run_id, error=_one_line(exc))
            return []
        return list((record.get("extraction") or {}).get("snapshot_missing_optional") or [])

    def _count_recleaned(self, slots: list[RunSlot], figures: dict[RunSlot, SlotFigures]) -> None:
        """Raw rows read and quarantine rows written by every re-cleaned slot, one Spark job each, as a run counts."""
        root = self.config.data_root
        # Each slot's raw CSV rows, parsed as read_raw_flights parses them (header, RFC 4180 quotes); the slot comes
        # from the file's partition folders.
        folders = r"/tech_day=([0-9-]{10})/tech_hour=([0-9]{2})/"
        file = F.input_file_name()
        slot = F.concat(F.regexp_extract(file, folders, 1), F.lit("T"), F.regexp_extract(file, folders, 2))
        raw = (
            self.spark.read.option("header", True)
            .option("escape", '"')
            .schema(", ".join(f"`{c}` string" for c in RAW_COLUMNS))
            .csv([raw_flights_dir(root, s) for s in slots])
            .select(slot.alias(SLOT_KEY))
        )
        quarantine_schema = ", ".join(f"`{c}` {t}" for c, t in QUARANTINE_SCHEMA.items())
        quarantine = [
            self.spark.read.schema(quarantine_schema)
            .parquet(self.publications[s].staged["quarantine/flights"])
            .select(F.lit(str(s)).alias(SLOT_KEY))
            for s in slots
        ]
        for row in raw.groupBy(SLOT_KEY).count().collect():
            figures[RunSlot.parse(row[SLOT_KEY])].raw_rows = int(row["count"])
        for row in reduce(DataFrame.unionByName, quarantine).groupBy(SLOT_KEY).count().collect():
            figures[RunSlot.parse(row[SLOT_KEY])].quarantine_rows = int(row["count"])
        for s in slots:  # a slot with no row in one of them counted nothing there
            figures[s].raw_rows = figures[s].raw_rows or 0
            figures[s].quarantine_rows = figures[s].quarantine_rows or 0

    def publish(self, slot: RunSlot, figures: SlotFigures, gold_dirs: dict[str, str | None]) -> dict[str, str]:
        """Stage the slot's gold tables in its Publication and swap the slot in; return what was published."""
        publication = self.publications[slot]
        for name in GOLD_TABLES:
            _stage_table(self.spark, publication, "gold", name, gold_dirs[name])
        return publication.commit()


def _stage_table(spark: SparkSession, publication: Publication, layer: str, table: str, written: str | None) -> None:
    """Make `written` (a folder of the slot's files, or None when the table has no row) the staged table."""
    if written is None:  # an empty table is still a file with its schema, as a single run writes it
        schema = ", ".join(f"`{c}` {t}" for c, t in GOLD_SCHEMAS[table].items())
        publication.stage(spark.createDataFrame([], schema), layer, table)
        return
    # The slot's folder becomes this run's data folder of the table, where a single run's `stage` writes it;
    # `commit` lists its Parquet files into the journal and the slot's pointer.
    target = table_data_dir(publication.data_root, layer, table, publication.slot, publication.run_id)
    publication.storage.replace_tree(written, target)
    publication.staged[f"{layer}/{table}"] = target


def _compute_isolating(
    run: _Run, slots: list[RunSlot]
) -> tuple[dict[RunSlot, tuple[SlotFigures, dict[str, str | None]]], dict[RunSlot, str]]:
    """Compute every slot in as few groups as possible; a failing group is halved until its culprit stands alone."""
    done: dict[RunSlot, tuple[SlotFigures, dict[str, str | None]]] = {}
    failed: dict[RunSlot, str] = {}
    pending = [slots]
    while pending:
        group = pending.pop(0)
        try:
            done.update(run.compute(group))
        except Exception as exc:  # any failure of the group: find the slot(s) it comes from
            error = _one_line(exc)
            log_event("group_failed", logging.WARNING, slots=len(group), first=str(group[0]), error=error)
            if len(group) > 1:
                middle = len(group) // 2
                pending[:0] = [group[:middle], group[middle:]]
                continue
            failed[group[0]] = error
            if len(failed) >= 2 and not done:
                raise BackfillAborted(
                    f"slots {', '.join(map(str, failed))} each failed alone and none succeeded: {error}"
                ) from exc
    return done, failed


def backfill(
    config: BackfillConfig,
    *,
    spark: SparkSession | None = None,
    storage: Storage | None = None,
    progress: Progress | None = None,
) -> BackfillReport:
    """Recompute every slot of the range that has silver (or raw, with from_raw); see the module docstring."""
    from etl.pipeline import build_spark
    from etl.reference import load_references

    config.validate()
    root = config.data_root
    storage = storage or storage_for(root)
    progress = progress or (lambda _stage, _done, _total: None)
    started = datetime.now(timezone.utc)
    total_started = time.perf_counter()
    backfill_id = f"backfill-{config.first.start:%Y%m%dT%H}-{config.last.start:%Y%m%dT%H}-{uuid.uuid4().hex[:6]}"
    bind_run_id(backfill_id)

    # A publication a killed run or backfill left half-way is completed first, so the pointers are whole.
    recover_publications(storage, root)
    silver_slots = slots_with_files(
        storage, table_root(root, "silver", "flights"), config.first, config.last, (POINTER_NAME,)
    )
    raw_slots = (
        slots_with_files(storage, join(root, "raw/flights"), config.first, config.last, (".csv", ".csv.gz"))
        if config.from_raw
        else []
    )
    slots = sorted(set(silver_slots) | set(raw_slots))
    log_event("backfill_started", first=str(config.first), last=str(config.last), slots=len(slots), root=root)
    if not slots:
        kind = "silver or raw" if config.from_raw else "silver"
        raise JobError(f"no slot between {config.first} and {config.last} has {kind} under {root}")

    report = BackfillReport(backfill_id, config.first, config.last, slots)
    spark = spark or build_spark(JobConfig(data_root=root, run_slot=config.first, spark_master=config.spark_master))
    airports, airlines = newest_reference(storage, root, "airports"), newest_reference(storage, root, "airlines")
    refs = load_references(spark, airports_csv=airports, airlines_csv=airlines)
    run = _Run(
        config=config,
        spark=spark,
        storage=storage,
        refs=refs,
        backfill_id=backfill_id,
        started=started,
        raw_slots=set(raw_slots),
        publications={slot: Publication(storage, root, new_run_id(slot, started), slot) for slot in slots},
        progress=progress,
        scratch=backfill_scratch_dir(root, backfill_id),
    )
    try:
        computed, failed = _compute_isolating(run, slots)
        report.timings_s["compute"] = round(time.perf_counter() - total_started, 3)
        for done, slot in enumerate(slots, start=1):
            _finish_slot(run, report, slot, computed.get(slot), failed.get(slot))
            progress("publish", done, len(slots))
    finally:
        storage.delete_tree(run.scratch)
        for publication in run.publications.values():
            publication.discard()  # what a failed or unreached slot staged
        spark.catalog.clearCache()
    report.timings_s["total"] = round(time.perf_counter() - total_started, 3)
    log_event(
        "backfill_finished",
        published=len(report.published),
        degraded={str(s): e for s, e in report.degraded.items()},
        failed={str(s): e for s, e in report.failed.items()},
        seconds=report.timings_s["total"],
    )
    return report


def _finish_slot(
    run: _Run,
    report: BackfillReport,
    slot: RunSlot,
    computed: tuple[SlotFigures, dict[str, str | None]] | None,
    compute_error: str | None,
) -> None:
    """Gate, publish and record one slot; a failure is the slot's alone."""
    publication = run.publications[slot]
    manifest = Manifest(
        run_id=publication.run_id,
        run_slot=slot,
        source=SOURCE,
        started_at=run.started,
        config={**run.config.to_dict(), "backfill_id": run.backfill_id},
        reference_sources=dict(run.refs.sources),
        versions=versions(run.spark.version),
    )
    manifest.timings_s["compute"] = report.timings_s.get("compute", 0.0)
    slot_started = time.perf_counter()
    error = compute_error
    degraded: str | None = None  # the failed checks of a slot published as degraded
    if computed is not None:
        figures, gold_dirs = computed
        inputs = figures.quality_inputs()
        manifest.counts = figures.counts()
        manifest.mapping_coverage = dict(inputs.mapping_coverage)
        manifest.cleaning_rules = figures.cleaning_rules
        manifest.capture_time = figures.capture_time
        if figures.missing_columns:  # carried forward, so that a later backfill of the slot judges it the same
            manifest.extraction = {"snapshot_missing_optional": figures.missing_columns}
        allow_degraded = run.config.quality.allow_degraded
        gate = evaluate(inputs, run.config.quality)
        manifest.quality = {**gate.to_dict(), "allow_degraded": allow_degraded}
        if figures.raw_rows is not None and figures.raw_rows != figures.silver_rows + (figures.quarantine_rows or 0):
            error = (
                f"DataQualityError: raw rows ({figures.raw_rows}) != silver ({figures.silver_rows}) + "
                f"quarantine ({figures.quarantine_rows}): rows were lost"
            )
        elif not gate.passed and not allow_degraded:
            error = gate.one_line()
        else:
            degraded = None if gate.passed else gate.one_line()
            try:
                manifest.outputs.update(run.publish(slot, figures, gold_dirs))
            except Exception as exc:  # this slot stays as it was; the next ones may still publish
                error = _one_line(exc)
    if error is None:
        manifest.status = SUCCEEDED if degraded is None else DEGRADED
        report.published.append(slot)
        if degraded is not None:
            report.degraded[slot] = degraded
    else:
        publication.discard()
        manifest.status, manifest.error = FAILED, error
        report.failed[slot] = error
    manifest.timings_s["publish"] = round(time.perf_counter() - slot_started, 3)
    manifest.finished_at = datetime.now(timezone.utc)
    manifest.timings_s["total"] = round((manifest.finished_at - run.started).total_seconds(), 3)
    try:
        report.manifests[slot] = manifest.write(run.storage, run.config.data_root)
    except Exception as exc:  # the slot's outcome stands; the log and the report still say it
        log_event("manifest_not_written", logging.ERROR, run_slot=str(slot), error=_one_line(exc))
    log_event(
        "slot_published" if error is None else "slot_failed",
        logging.INFO if error is None else logging.ERROR,
        run_slot=str(slot),
        slot_run_id=manifest.run_id,
        error=error,
    )
