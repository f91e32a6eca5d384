"""Publication on Apache Iceberg: one overwrite of the slots per table, the manifests name the snapshots, repair.

The decisions (one commit per table, the manifest publishes, conflicts refused, repair rolls back and never forward,
runs still going on are left alone) are written once, for every reader, in docs/data.md (Publication and repair).
The mechanism through Spark (a validated slot overwrite, snapshots, time travel) is etl/publication/spark_lake.py;
which runs are still going on, etl/publication/run_lock.py; table maintenance, etl/publication/maintenance.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.layout import RunSlot
from etl.core.log import log_event
from etl.core.storage import Storage
from etl.publication.lake import LAKE_TABLES, SLOT_TABLES, LakeTable
from etl.publication.manifest import PUBLISHED, read_manifests
from etl.publication.run_lock import is_live
from etl.publication.spark_lake import Lake

COMMIT_THREADS = 4  # tables committed at once: each commit is mostly metadata round trips


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


def publish_tables(
    lake: Lake,
    frames: Mapping[str, tuple[DataFrame, list[RunSlot]]],
    run_ids: Mapping[RunSlot, str],
    on_commit: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Commit every table of `frames` (table -> rows, the slots they replace), side by side; table -> snapshot.

    Each table's base snapshot is read before the first commit, so a commit of another run to these slots in
    between fails ours. A failure leaves each table wholly committed or untouched; `repair` rolls the
    committed ones back, since no manifest follows.
    """
    bases = {table: lake.current_snapshot(table) for table in frames}

    def one(table: str) -> tuple[str, int]:
        df, slots = frames[table]
        runs = {str(slot): run_ids[slot] for slot in slots}
        snapshot = lake.commit(table, df, slots, runs, bases[table])
        if on_commit is not None:
            on_commit(table)
        return table, snapshot

    # Commits of different tables are independent: a few at once hide each commit's metadata round trips.
    with ThreadPoolExecutor(max_workers=COMMIT_THREADS) as pool:
        return dict(pool.map(one, list(frames)))


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
