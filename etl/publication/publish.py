"""Publication on Apache Iceberg: one overwrite of the slots per table, the manifests name the snapshots, repair.

How a run (or a backfill) makes its slots visible, and what the decisions are:
- Each table gets ONE Iceberg commit for all the slots it publishes: an overwrite of exactly those slots' partitions
  (`DataFrameWriterV2.overwrite` with the slots' filter: rows of other slots are untouched, a slot left with no row
  is emptied). The commit carries snapshot properties naming the run of each slot (RUNS_PROPERTY), validated with
  Iceberg's serializable isolation from the snapshot read before the first commit: a commit of another run to the
  same slots in between makes ours fail (PublicationConflict) instead of silently mixing.
- The tables of one run are committed side by side, then the run manifest `runs/<run_id>.json` is written with each
  table's snapshot id, and only then is the run published: readers of a slot (etl show, the report, a backfill)
  read the snapshots the newest published manifest names (time travel), so nobody sees two runs mixed even while
  a run is half-way through its commits.
- A run killed between commits, or failing after some, leaves tables whose slot now holds rows of a run with no
  published manifest. `repair`, at the start of every run and backfill, finds them from Iceberg's own metadata (the
  snapshot properties say which run last wrote each slot of each table) and the manifests, and rolls each such slot
  back to the snapshot of the slot's newest published manifest (or empties it when none was ever published). The
  decision is to roll back, not forward: the interrupted run passed no end-to-end check of its own (its manifest
  is missing), so only what a manifest vouches for is restored. A manifest is written for the interrupted run
  (status failed, naming the repair), and the runs table gets the rows a killed run did not append.
- A run still going on is not repaired (etl/publication/run_lock.py says which are). Table maintenance (snapshot
  expiry, orphan files, compaction) is Iceberg's own actions: etl/publication/maintenance.py.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.errors import JobError, first_line
from etl.core.layout import RunSlot
from etl.core.log import log_event
from etl.core.storage import Storage
from etl.publication.lake import CATALOG, LAKE_TABLES, RUNS, SLOT_TABLES, LakeError, LakeTable, identifier
from etl.publication.manifest import PUBLISHED, read_manifests
from etl.publication.run_lock import is_live

RUNS_PROPERTY = "flight-kpis.runs"  # JSON {slot: run_id} of the slots a commit wrote
COMMIT_PROPERTY = "flight-kpis.commit"  # a commit's own id, to find its snapshot afterwards
_PARTITION_RE = re.compile(r"/tech_day=(\d{4}-\d{2}-\d{2})/tech_hour=(\d{2})/")
COMMIT_THREADS = 4  # tables committed at once: each commit is mostly metadata round trips


class PublicationConflict(JobError):
    """Another run committed to the same slots of a table meanwhile: this run's commit was refused."""


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of a table: its id, commit time and, for the job's commits, the run of each slot it wrote."""

    snapshot_id: int
    committed_ms: int
    runs: dict[str, str]  # slot -> run id (empty for compaction and other maintenance commits)


def slot_filter(slots: Iterable[RunSlot]) -> Column:
    """Rows of these slots, on the partition columns (so Iceberg drops whole files, never rewrites rows)."""
    terms = [
        (F.col("tech_day") == slot.partition_values["tech_day"])
        & (F.col("tech_hour") == slot.partition_values["tech_hour"])
        for slot in slots
    ]
    return reduce(lambda a, b: a | b, terms) if terms else F.lit(False)


def with_run_columns(df: DataFrame, slot_key: str, run_ids: Mapping[RunSlot, str], table: LakeTable) -> DataFrame:
    """`df` (rows tagged with their slot in `slot_key`) as the table's columns: run_id and the partitions added."""
    runs = F.create_map(*(F.lit(text) for slot, run_id in run_ids.items() for text in (str(slot), run_id)))
    start = F.to_timestamp(F.col(slot_key), "yyyy-MM-dd'T'HH")
    parts = {
        "tech_year": F.date_format(start, "yyyy"),
        "tech_month": F.date_format(start, "yyyy-MM"),
        "tech_day": F.date_format(start, "yyyy-MM-dd"),
        "tech_hour": F.date_format(start, "HH"),
    }
    columns = [F.col(c) for c in table.data_columns]
    return df.select(*columns, runs[F.col(slot_key)].alias(RUN_ID), *(parts[c].alias(c) for c in PARTITION_COLUMNS))


class Lake:
    """The job's Iceberg tables in one catalog database, through a Spark session."""

    def __init__(self, spark: SparkSession, database: str) -> None:
        self.spark = spark
        self.database = database

    def ident(self, table: str) -> str:
        return identifier(self.database, table)

    def ensure_tables(self) -> None:
        """Create the database and any missing table (locally; on AWS the stack created them), partitioned by slot."""
        # One table at a time (Glue's GetTable), never a listing: the cluster's role may read these tables only.
        self.spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {CATALOG}.{self.database}")
        partitions = ", ".join(PARTITION_COLUMNS)

        def ensure(table: LakeTable) -> None:
            self.spark.sql(
                f"CREATE TABLE IF NOT EXISTS {self.ident(table.name)} ({table.ddl_columns()}) USING iceberg "
                f"PARTITIONED BY ({partitions}) COMMENT '{_sql_text(table.description)}' "
                "TBLPROPERTIES ('format-version'='2')"
            )
            self._evolve(table)

        # Each table is its own metadata round trips: a few side by side, as the commits are.
        with ThreadPoolExecutor(max_workers=COMMIT_THREADS) as pool:
            list(pool.map(ensure, LAKE_TABLES.values()))

    def _evolve(self, table: LakeTable) -> None:
        """A table the stack created (no partition spec, or fewer columns): add the partitions and missing columns."""
        jtable = self.java_table(table.name)
        if jtable.spec().isUnpartitioned():
            update = jtable.updateSpec()
            for column in PARTITION_COLUMNS:
                update = update.addField(column)
            update.commit()
        present = {field.name() for field in jtable.schema().columns()}
        missing = [(c, t) for c, t in table.columns.items() if c not in present]
        if missing:
            added = ", ".join(f"`{c}` {t}" for c, t in missing)
            self.spark.sql(f"ALTER TABLE {self.ident(table.name)} ADD COLUMNS ({added})")

    def java_table(self, table: str) -> Any:
        """Iceberg's own Table object (through the JVM), freshly loaded."""
        jvm = self.spark.sparkContext._jvm
        assert jvm is not None, "the Spark session is stopped"
        try:
            jtable = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(
                self.spark._jsparkSession, self.ident(table)
            )
            jtable.refresh()
        except Exception as exc:
            raise LakeError(
                f"table {self.ident(table)} cannot be loaded: {type(exc).__name__}: {first_line(exc)}"
            ) from None
        return jtable

    def snapshots(self, table: str) -> list[Snapshot]:
        """The table's snapshots, oldest first (metadata only: no data file is read)."""
        found = []
        for snap in self.java_table(table).snapshots():
            summary = snap.summary()
            text = summary.get(RUNS_PROPERTY) if summary is not None else None
            found.append(
                Snapshot(int(snap.snapshotId()), int(snap.timestampMillis()), json.loads(text) if text else {})
            )
        return sorted(found, key=lambda s: (s.committed_ms, s.snapshot_id))

    def current_snapshot(self, table: str) -> int | None:
        snap = self.java_table(table).currentSnapshot()
        return None if snap is None else int(snap.snapshotId())

    def owners(self, table: str) -> dict[str, tuple[str, int]]:
        """Slot -> (the run whose rows the table holds now, the snapshot that wrote them), from the snapshot log."""
        owners: dict[str, tuple[str, int]] = {}
        for snap in self.snapshots(table):
            for slot, run_id in snap.runs.items():
                owners[slot] = (run_id, snap.snapshot_id)
        return owners

    def commit(
        self, table: str, df: DataFrame, slots: Iterable[RunSlot], runs: Mapping[str, str], base: int | None
    ) -> int:
        """Replace the slots' rows of `table` by `df` in one commit validated from snapshot `base`; its snapshot id."""
        slots = list(slots)
        commit_id = uuid.uuid4().hex
        writer = (
            df.writeTo(self.ident(table))
            .option(f"snapshot-property.{RUNS_PROPERTY}", json.dumps(dict(runs), sort_keys=True))
            .option(f"snapshot-property.{COMMIT_PROPERTY}", commit_id)
        )
        if base is not None:  # without a base (a repair, a new table) the overwrite is not validated
            writer = writer.option("isolation-level", "serializable").option("validate-from-snapshot-id", str(base))
        try:
            writer.overwrite(slot_filter(slots))
        except Exception as exc:
            if "ValidationException" in str(exc):
                raise PublicationConflict(
                    f"{table}: another run wrote slot(s) {', '.join(map(str, slots))} meanwhile; this run publishes "
                    "nothing of them"
                ) from None
            raise
        for snap in reversed(list(self.java_table(table).snapshots())):
            summary = snap.summary()
            if summary is not None and summary.get(COMMIT_PROPERTY) == commit_id:
                return int(snap.snapshotId())
        raise LakeError(f"{table}: the commit {commit_id} is not in the table's snapshots")

    def publish_tables(
        self,
        frames: Mapping[str, tuple[DataFrame, list[RunSlot]]],
        run_ids: Mapping[RunSlot, str],
        on_commit: Callable[[str], None] | None = None,
    ) -> dict[str, int]:
        """Commit every table of `frames` (table -> rows, the slots they replace), side by side; table -> snapshot.

        Each table's base snapshot is read before the first commit, so a commit of another run to these slots in
        between fails ours. A failure leaves each table wholly committed or untouched; `repair` rolls the
        committed ones back, since no manifest follows.
        """
        bases = {table: self.current_snapshot(table) for table in frames}

        def one(table: str) -> tuple[str, int]:
            df, slots = frames[table]
            runs = {str(slot): run_ids[slot] for slot in slots}
            snapshot = self.commit(table, df, slots, runs, bases[table])
            if on_commit is not None:
                on_commit(table)
            return table, snapshot

        # Commits of different tables are independent: a few at once hide each commit's metadata round trips.
        with ThreadPoolExecutor(max_workers=COMMIT_THREADS) as pool:
            return dict(pool.map(one, list(frames)))

    def added_rows(self, table: str, snapshot_id: int) -> dict[str, int]:
        """Slot -> rows the snapshot added (from its data files' metadata: no data file is read)."""
        jtable = self.java_table(table)
        snap = jtable.snapshot(snapshot_id)
        rows: dict[str, int] = {}
        for data_file in snap.addedDataFiles(jtable.io()):
            found = _PARTITION_RE.search(str(data_file.location()))
            if found:
                slot = f"{found.group(1)}T{found.group(2)}"
                rows[slot] = rows.get(slot, 0) + int(data_file.recordCount())
        return rows

    def oldest_snapshot_ms(self, table: str) -> int | None:
        snaps = self.snapshots(table)
        return snaps[0].committed_ms if snaps else None

    def read_at(
        self, table: str, snapshots: Mapping[RunSlot, int], run_ids: Mapping[RunSlot, str] | None = None
    ) -> DataFrame:
        """The rows of each slot at the snapshot given for it (time travel), one read per distinct snapshot.

        A snapshot expired by retention is read as the slot's current rows of the slot's run (`run_ids`).
        """
        jtable = self.java_table(table)
        by_snapshot: dict[int, list[RunSlot]] = {}
        expired: list[RunSlot] = []
        for slot, snapshot in snapshots.items():
            if jtable.snapshot(int(snapshot)) is None and run_ids is not None:
                expired.append(slot)
            else:
                by_snapshot.setdefault(snapshot, []).append(slot)
        frames = [
            self.spark.read.option("snapshot-id", str(snapshot)).table(self.ident(table)).where(slot_filter(slots))
            for snapshot, slots in sorted(by_snapshot.items())
        ]
        if expired and run_ids is not None:
            current = self.spark.read.table(self.ident(table)).where(slot_filter(expired))
            wanted = F.col(RUN_ID).isin([run_ids[s] for s in expired])
            frames.append(current.where(wanted))
        if not frames:
            raise LakeError(f"{table}: no snapshot to read")
        return reduce(DataFrame.unionByName, frames)

    def append_runs(self, rows: list[dict[str, Any]]) -> None:
        """Append run records to the runs table (one commit), each under its run id's snapshot property."""
        if not rows:
            return
        df = self.spark.createDataFrame(rows, RUNS.ddl_columns())
        runs = {f"run:{row[RUN_ID]}": row[RUN_ID] for row in rows}
        df.writeTo(self.ident(RUNS.name)).option(
            f"snapshot-property.{RUNS_PROPERTY}", json.dumps(runs, sort_keys=True)
        ).append()

    def recorded_runs(self) -> set[str]:
        """Run ids the runs table's retained snapshots appended."""
        return {run_id for snap in self.snapshots(RUNS.name) for run_id in snap.runs.values()}


def _sql_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


# -- repair --------------------------------------------------------------------------------------------------------


def published_by_slot(storage: Storage, root: str) -> dict[str, dict[str, Any]]:
    """Slot -> the newest published manifest of the slot (succeeded or degraded, with its snapshot ids)."""
    newest: dict[str, dict[str, Any]] = {}
    for manifest in read_manifests(storage, root):
        if manifest.get("status") in PUBLISHED and manifest.get("snapshots"):
            newest[manifest["run_slot"]] = manifest  # read_manifests sorts oldest first
    return newest


def repair(
    lake: Lake,
    storage: Storage,
    root: str,
    by_run: str,
    write_manifest: Callable[[str, str, str], None],
    dead: Iterable[str] = (),
    only: Iterable[str] | None = None,
) -> list[dict[str, str]]:
    """Roll back every slot a dead run left half-published; return what was done (table, slot, run, restored).

    `write_manifest(run_id, slot, error)` records an interrupted run that left no manifest as failed. `dead`: runs
    to take as ended whatever their lock says (a failing run rolling back its own commits); `only`: repair only
    what these runs wrote.
    """
    dead, only = set(dead), (set(only) if only is not None else None)
    published = published_by_slot(storage, root)
    known = {m["run_id"] for m in read_manifests(storage, root)}
    done: list[dict[str, str]] = []
    interrupted: dict[str, str] = {}
    for table in SLOT_TABLES:
        for slot_text, (owner, _) in lake.owners(table).items():
            good = published.get(slot_text)
            if good is None and owner == "":
                continue  # emptied by an earlier repair: nothing was ever published there
            if good is not None and owner == expected_owner(good, table):
                continue
            if only is not None and owner not in only:
                continue
            if owner not in dead and is_live(root, owner):
                continue
            slot = RunSlot.parse(slot_text)
            restored = _restore(lake, table, slot, good)
            done.append({"table": table, "slot": slot_text, "run": owner, "restored": restored})
            if owner not in known:
                interrupted[owner] = slot_text
    for run_id, slot_text in interrupted.items():
        restored = published.get(slot_text, {}).get("run_id") or "nothing (no run of the slot was published)"
        write_manifest(run_id, slot_text, f"interrupted during publication; slot rolled back to {restored} by {by_run}")
    if done:
        log_event("publication_repaired", logging.WARNING, repaired=done)
    return done


def expected_owner(manifest: dict[str, Any], table: str) -> str:
    """The run whose rows a published manifest's snapshot of `table` holds (a carried table keeps its own run)."""
    return str((manifest.get("table_runs") or {}).get(table) or manifest["run_id"])


def _restore(lake: Lake, table: str, slot: RunSlot, good: dict[str, Any] | None) -> str:
    """Make the slot of `table` what `good` (the slot's newest published manifest) vouches for; what it restored."""
    snapshot = (good or {}).get("snapshots", {}).get(table)
    if snapshot is None:
        empty = lake.spark.createDataFrame([], LAKE_TABLES[table].ddl_columns())
        owner = expected_owner(good, table) if good is not None else ""  # so the next repair finds it settled
        lake.commit(table, empty, [slot], {str(slot): owner}, None)
        return "nothing"
    owner = expected_owner(good, table)  # type: ignore[arg-type]
    rows = lake.read_at(table, {slot: int(snapshot)}, {slot: owner})
    lake.commit(table, rows, [slot], {str(slot): owner}, None)
    return owner
