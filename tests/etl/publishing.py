"""Small publications without Spark: each table's rows name the run that wrote them, so a mix is easy to see."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl.layout import RunSlot, table_data_dir
from etl.load import Publication
from etl.storage import Storage
from etl.tables import current_files, read_rows, run_of

SLOT = RunSlot.parse("2026-11-22T14")
# Four of the job's tables, silver and gold, enough to see a publication stop between two of them.
KEYS = ("silver/flights", "quarantine/flights", "gold/airline_most_live_flights", "gold/longest_live_flight")
# Run ids as the job makes them (`<slot>-<start>-<random>`): sortable by start time.
RUN_A = "20261122T14-20261129T100000Z-aaaaaa"
RUN_B = "20261122T14-20261129T110000Z-bbbbbb"
RUN_C = "20261122T14-20261129T120000Z-cccccc"


def rows_of(run_id: str, key: str) -> list[dict[str, Any]]:
    """The two rows a run writes to a table: the run's letter (the id's last character) and a row number."""
    return [{"table": key, "run": run_id[-1], "n": 1}, {"table": key, "run": run_id[-1], "n": 2}]


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    """A Parquet file of these rows."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def staged(storage: Storage, root: str, run_id: str, slot: RunSlot = SLOT, keys: tuple[str, ...] = KEYS) -> Publication:
    """A Publication whose tables were staged as the job stages them (one Parquet file per run folder)."""
    publication = Publication(storage, root, run_id, slot)
    for key in keys:
        layer, table = key.split("/", 1)
        folder = table_data_dir(root, layer, table, slot, run_id)
        storage.write_bytes(f"{folder}/part-00000-{run_id[-6:]}.parquet", parquet_bytes(rows_of(run_id, key)))
        publication.staged[key] = folder
    return publication


def published(storage: Storage, root: str, slot: RunSlot = SLOT, keys: tuple[str, ...] = KEYS) -> dict[str, str]:
    """Per table, the single run whose rows readers see ('A', 'B', ...), checked row by row; '-' if unpublished."""
    seen = {}
    for key in keys:
        layer, table = key.split("/", 1)
        files = current_files(storage, root, layer, table, slot)
        if files is None:
            seen[key] = "-"
            continue
        rows = read_rows(root, layer, table, slot, storage=storage)
        run = run_of(files)
        assert run is not None and all(f"/run_id={run}/" in f for f in files), f"{key} lists files of two runs"
        assert rows == rows_of(run, key), f"{key}: rows are not wholly run {run}'s"
        seen[key] = run[-1].upper()
    return seen
