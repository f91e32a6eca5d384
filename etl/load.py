"""Publishing a run's tables: immutable run folders, a journal, then one atomic pointer switch per table.

1. `stage` writes each table's files once, under `<layer>/<table>/data/<partitions>/run_id=<run_id>/`: no reader
   looks there, so nothing is visible yet, and a failed run deletes them (`discard`).
2. `commit` writes the journal `_publish/pending/<run_id>.json` (the tables and their files): from here on the
   publication is decided and any later run completes it.
3. Each table's pointer `<layer>/<table>/<partitions>/symlink.txt` is replaced by one PUT (S3) or one rename (local):
   readers, Athena included, see the old file list or the new one, never both. A pointer only moves forward: it is
   replaced by compare-and-swap and never by an older run than the one it names, so of two runs of one slot the later
   run's tables win, whatever the order of their writes.
4. The journal is deleted (done), then the run folders older than the version just replaced are deleted: the
   replaced version stays until the next publication of the slot, so a query that started on it keeps its files.
A run killed or failing after step 2 leaves its journal: `recover_publications`, called at the start of every run,
switches the rest of its pointers (roll forward), so each slot ends wholly on one run's tables.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame

from etl.errors import JobError
from etl.layout import (
    RUN_DIR_PREFIX,
    RunSlot,
    pending_journals_dir,
    publish_journal,
    table_data_dir,
    table_data_slot,
    table_partition,
    table_pointer,
)
from etl.log import log_event
from etl.storage import Storage
from etl.tables import data_files, pointer_files, pointer_text, run_of


class PublicationError(JobError):
    """A publication that could not switch every table; the next run completes it."""


@dataclass
class Publication:
    """The tables of one run: staged in the run's own folders, then made visible by `commit`."""

    storage: Storage
    data_root: str
    run_id: str
    slot: RunSlot
    staged: dict[str, str] = field(default_factory=dict)  # "layer/table" -> the run's data folder
    journaled: bool = False
    journal_attempted: bool = False

    def stage(self, df: DataFrame, layer: str, table: str, files: int = 1) -> str:
        """Write one table's rows for the slot as Parquet in the run's own folder; nothing is visible yet."""
        path = table_data_dir(self.data_root, layer, table, self.slot, self.run_id)
        self.staged[f"{layer}/{table}"] = path  # recorded first, so that discard removes a half-written folder too
        # A slot of one table is small (at most tens of thousands of rows): few files keep Athena scans cheap.
        df.coalesce(files).write.mode("overwrite").parquet(path)
        return path

    def final_path(self, key: str) -> str:
        """The pointer readers follow for a table of this slot."""
        layer, table = key.split("/", 1)
        return table_pointer(self.data_root, layer, table, self.slot)

    def commit(self) -> dict[str, str]:
        """Journal the run's tables, switch each table's pointer, then clear the journal and old versions."""
        tables: dict[str, dict[str, Any]] = {}
        for key, folder in self.staged.items():
            files = data_files(self.storage, folder)
            if not files:
                raise PublicationError(f"{key} of run {self.run_id} has no data file under {folder}")
            tables[key] = {"pointer": self.final_path(key), "files": files}
        journal = {"run_id": self.run_id, "run_slot": str(self.slot), "tables": tables}
        self.journal_attempted = True
        self.storage.write_bytes(publish_journal(self.data_root, self.run_id), json.dumps(journal, indent=1).encode())
        self.journaled = True
        log_event("publication_journaled", tables=len(tables))
        apply_journal(self.storage, self.data_root, journal)
        return {key: entry["pointer"] for key, entry in tables.items()}

    def discard(self) -> None:
        """Remove the run's data folders after a failure, unless its journal was written (then they are published)."""
        if self.journaled:
            return
        if self.journal_attempted:
            # A PUT that failed may still have stored the journal (e.g. its answer was lost): remove it first, so
            # that no later run rolls forward onto the folders deleted below. No pointer was switched yet.
            self.storage.delete_tree(publish_journal(self.data_root, self.run_id))
        for folder in self.staged.values():
            self.storage.delete_tree(folder)


def switch_pointer(storage: Storage, root: str, pointer: str, files: list[str], run_id: str) -> tuple[bool, str | None]:
    """Point readers at `files` unless a later run already published there: (switched, run id replaced)."""
    body = pointer_text(files)
    while True:
        current = storage.read_tagged(pointer)
        replaced = run_of(pointer_files(current[0], root)) if current else None
        if replaced is not None and replaced > run_id:
            return False, None  # a later run of the slot published this table: it wins
        if replaced == run_id:
            return True, None  # already switched (a journal applied twice)
        if storage.write_if(pointer, body, current[1] if current else None):
            return True, replaced
        # Another run replaced the pointer between our read and our write: look again.


def apply_journal(storage: Storage, root: str, journal: dict[str, Any]) -> None:
    """Switch every table of a journal (skipping tables a later run holds), then mark it done and collect garbage."""
    run_id = journal["run_id"]
    tables: dict[str, dict[str, Any]] = journal["tables"]
    done, superseded, replaced = 0, [], {}
    for key, entry in tables.items():
        files = pointer_files(pointer_text(entry["files"]), root)
        try:
            switched, previous = switch_pointer(storage, root, entry["pointer"], files, run_id)
        except Exception as exc:
            raise PublicationError(
                f"publication of run {run_id} stopped after {done} of {len(tables)} tables at {key} ({exc}); "
                "each table is wholly the old or the new run's, and the next run completes the publication"
            ) from exc
        done += 1
        if not switched:
            superseded.append(key)
        elif previous is not None:
            replaced[key] = previous
    log_event("publication_committed", run=run_id, tables=len(tables), superseded=superseded)
    slot = RunSlot.parse(journal["run_slot"])
    try:
        storage.delete_tree(publish_journal(root, run_id))  # done
        for key in tables:
            layer, table = key.split("/", 1)
            _drop_legacy_files(storage, root, layer, table, slot)
            if key in replaced:
                collect_garbage(storage, root, layer, table, slot, older_than=replaced[key])
    except Exception as exc:  # published already: a journal left is marked done by the next run, old folders are
        # collected by the slot's next publication
        log_event("publication_cleanup_failed", logging.ERROR, run=run_id, error=str(exc))


def recover_publications(storage: Storage, root: str) -> list[str]:
    """Roll forward every publication a killed or failed run left unfinished; return their run ids."""
    recovered = []
    for path in storage.list_files(pending_journals_dir(root)):
        if not path.endswith(".json") or path.rsplit("/", 1)[-1].startswith("."):
            continue
        found = storage.read_tagged(path)
        if found is None:
            continue  # finished by its own run meanwhile
        journal = json.loads(found[0])
        apply_journal(storage, root, journal)
        log_event("publication_rolled_forward", run=journal["run_id"], run_slot=journal["run_slot"])
        recovered.append(journal["run_id"])
    return recovered


def run_folders(storage: Storage, root: str, layer: str, table: str, slot: RunSlot) -> dict[str, str]:
    """Run id -> data folder, for every run that wrote this table's slot and was not collected yet."""
    base = table_data_slot(root, layer, table, slot)
    folders: dict[str, str] = {}
    for path in storage.list_files(base):
        name = path[len(base) :].strip("/").split("/", 1)[0]
        if name.startswith(RUN_DIR_PREFIX):
            folders[name[len(RUN_DIR_PREFIX) :]] = f"{base}/{name}"
    return folders


def collect_garbage(storage: Storage, root: str, layer: str, table: str, slot: RunSlot, older_than: str) -> None:
    """Delete the slot's run folders older than `older_than` (the version just replaced, which is kept)."""
    # Older folders are earlier versions, or leftovers of runs that died or lost to a later run: no pointer can
    # name them again, since a pointer never moves back to an older run.
    for run_id, folder in run_folders(storage, root, layer, table, slot).items():
        if run_id < older_than:
            storage.delete_tree(folder)


def _drop_legacy_files(storage: Storage, root: str, layer: str, table: str, slot: RunSlot) -> None:
    # Lakes written before pointers held the Parquet files in the partition folder itself, where Athena now
    # expects symlink manifests only.
    legacy = [f for f in storage.list_files(table_partition(root, layer, table, slot)) if f.endswith(".parquet")]
    for path in legacy:
        storage.delete_tree(path)


def published_runs(storage: Storage, root: str, keys: Iterable[str], slot: RunSlot) -> dict[str, str | None]:
    """ "layer/table" -> the run whose files readers see for the slot (None: never published)."""
    runs = {}
    for key in keys:
        layer, table = key.split("/", 1)
        found = storage.read_tagged(table_pointer(root, layer, table, slot))
        runs[key] = run_of(pointer_files(found[0], root)) if found else None
    return runs
