"""The lake's Iceberg tables through Spark: create them, commit a slot overwrite, list snapshots, time travel.

The mechanism, not the decisions: what a run commits, when, and how a dead run's commits are rolled back is
etl/publication/publish.py. Readers without Spark use etl/publication/tables.py (pyiceberg) on the same tables.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.errors import JobError, first_line
from etl.core.layout import RunSlot
from etl.core.spark_session import jvm_class
from etl.publication.lake import CATALOG, LAKE_TABLES, RUNS, LakeError, LakeTable, identifier

RUNS_PROPERTY = "flight-kpis.runs"  # JSON {slot: run_id} of the slots a commit wrote
COMMIT_PROPERTY = "flight-kpis.commit"  # a commit's own id, to find its snapshot afterwards
_PARTITION_RE = re.compile(r"/tech_day=(\d{4}-\d{2}-\d{2})/tech_hour=(\d{2})/")
ENSURE_THREADS = 4  # tables created or checked at once: each is a few metadata round trips


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
        with ThreadPoolExecutor(max_workers=ENSURE_THREADS) as pool:
            list(pool.map(ensure, LAKE_TABLES.values()))

    def _evolve(self, table: LakeTable) -> None:
        """A table the stack created (no partition spec, or fewer columns): add the partitions and missing columns."""
        jtable = self.java_table(table.name)
        if jtable.spec().isUnpartitioned():
            update = jtable.updateSpec()
            for column in PARTITION_COLUMNS:
                update = update.addField(column)
            update.commit()
        schema = json.loads(jvm_class(self.spark, "org.apache.iceberg.SchemaParser").toJson(jtable.schema()))
        present = {field["name"] for field in schema["fields"]}
        missing = [(c, t) for c, t in table.columns.items() if c not in present]
        if missing:
            added = ", ".join(f"`{c}` {t}" for c, t in missing)
            self.spark.sql(f"ALTER TABLE {self.ident(table.name)} ADD COLUMNS ({added})")

    def java_table(self, table: str) -> Any:
        """Iceberg's own Table object (through the JVM), freshly loaded."""
        try:
            jtable = jvm_class(self.spark, "org.apache.iceberg.spark.Spark3Util").loadIcebergTable(
                self.spark._jsparkSession, self.ident(table)
            )
            jtable.refresh()
        except Exception as exc:
            raise LakeError(
                f"table {self.ident(table)} cannot be loaded: {type(exc).__name__}: {first_line(exc)}"
            ) from None
        return jtable

    def metadata(self, table: str) -> dict[str, Any]:
        """The table's current metadata, freshly loaded, as Iceberg writes it (`vN.metadata.json`): one call to the
        JVM for what walking its snapshot objects took several calls a snapshot."""
        current = self.java_table(table).operations().current()
        return dict(json.loads(jvm_class(self.spark, "org.apache.iceberg.TableMetadataParser").toJson(current)))

    def snapshots(self, table: str) -> list[Snapshot]:
        """The table's snapshots, oldest first (metadata only: no data file is read)."""
        found = []
        for snap in self.metadata(table).get("snapshots") or []:
            text = (snap.get("summary") or {}).get(RUNS_PROPERTY)
            found.append(
                Snapshot(int(snap["snapshot-id"]), int(snap["timestamp-ms"]), json.loads(text) if text else {})
            )
        return sorted(found, key=lambda s: (s.committed_ms, s.snapshot_id))

    def current_snapshot(self, table: str) -> int | None:
        current = self.metadata(table).get("current-snapshot-id")
        return None if current is None or int(current) < 0 else int(current)  # -1: none, in older metadata

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
        for snap in reversed(self.metadata(table).get("snapshots") or []):
            if (snap.get("summary") or {}).get(COMMIT_PROPERTY) == commit_id:
                return int(snap["snapshot-id"])
        raise LakeError(f"{table}: the commit {commit_id} is not in the table's snapshots")

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
        retained = {int(snap["snapshot-id"]) for snap in self.metadata(table).get("snapshots") or []}
        by_snapshot: dict[int, list[RunSlot]] = {}
        expired: list[RunSlot] = []
        for slot, snapshot in snapshots.items():
            if int(snapshot) not in retained and run_ids is not None:
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
