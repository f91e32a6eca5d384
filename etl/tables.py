"""The one reader of published tables: the files a slot's pointer lists, read by Spark or Arrow with the partitions.

A table's data files are never listed by folder: each run writes its own folder under `<layer>/<table>/data/`, and
only the per-slot pointer (`<layer>/<table>/<partitions>/symlink.txt`, a Hive symlink manifest) says which of them
readers see. Athena reads the same pointer (athena_ddl/, SymlinkTextInputFormat).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from etl.columns import PARTITION_COLUMNS
from etl.errors import JobError
from etl.layout import RUN_DIR_PREFIX, RunSlot, table_pointer
from etl.storage import Storage, is_s3, storage_for

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession


class TableNotPublishedError(JobError):
    """A table has no published data for the slots asked."""


def pointer_text(files: Iterable[str]) -> bytes:
    """A symlink manifest: one data file URI per line (s3:// on S3, as Athena requires; absolute paths locally)."""
    return "".join(f"{_as_listed(f)}\n" for f in files).encode()


def _as_listed(path: str) -> str:
    if is_s3(path):
        return "s3://" + path.split("://", 1)[1]
    return os.path.abspath(path)


def pointer_files(data: bytes, root: str) -> list[str]:
    """The data files a pointer lists, spelled with the data root's scheme (s3a:// roots read s3:// entries)."""
    files = [line.strip() for line in data.decode().splitlines() if line.strip()]
    if is_s3(root):
        scheme = root.split("://", 1)[0]
        files = [f"{scheme}://{f.split('://', 1)[1]}" for f in files]
    return files


def run_of(files: Iterable[str]) -> str | None:
    """The run id whose folder (`.../run_id=<id>/part-...`) holds these files; None for no file."""
    for path in files:
        for part in path.split("/"):
            if part.startswith(RUN_DIR_PREFIX):
                return part[len(RUN_DIR_PREFIX) :]
    return None


def data_files(storage: Storage, run_dir: str) -> list[str]:
    """The Parquet files of one run's folder (Spark's checksum and marker files left out)."""
    names = storage.list_files(run_dir)
    return [f for f in names if f.endswith(".parquet") and not f.rsplit("/", 1)[-1].startswith((".", "_"))]


def current_files(storage: Storage, root: str, layer: str, table: str, slot: RunSlot) -> list[str] | None:
    """The files readers see for one slot of a table, or None when the slot was never published."""
    found = storage.read_tagged(table_pointer(root, layer, table, slot))
    return None if found is None else pointer_files(found[0], root)


def _published(
    storage: Storage, root: str, layer: str, table: str, slots: Iterable[RunSlot]
) -> list[tuple[RunSlot, list[str]]]:
    slots = list(slots)
    found = [(slot, files) for slot in slots if (files := current_files(storage, root, layer, table, slot))]
    if not found:
        where = ", ".join(str(s) for s in slots) or "no slot"
        raise TableNotPublishedError(
            f"{layer}/{table} has no published data for slot {where} under {root}: run `etl run --slot ...` first"
        )
    return found


def read_table(
    spark: SparkSession,
    root: str,
    layer: str,
    table: str,
    slots: Iterable[RunSlot],
    storage: Storage | None = None,
) -> DataFrame:
    """A table's published rows for the slots (slots never published are skipped), with the partition columns."""
    from pyspark.sql import functions as F

    storage = storage or storage_for(root)
    frames = []
    for slot, files in _published(storage, root, layer, table, slots):
        df = spark.read.parquet(*files)
        values = slot.partition_values
        frames.append(df.select("*", *(F.lit(values[c]).alias(c) for c in PARTITION_COLUMNS)))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


# A data file's key: the last two segments of its path, its run folder and its own name
# (`run_id=<id>/part-<uuid>.parquet`). They name the file uniquely and need no URI escaping, so the pointer's spelling
# and Spark's (`input_file_name`, a URI) give the same key whatever the data root's scheme or characters.
_FILE_KEY = r"([^/]+/[^/]+)$"


def _file_key(path: str) -> str:
    found = re.search(_FILE_KEY, path)
    return found.group(1) if found else path


def read_slots(
    spark: SparkSession,
    root: str,
    layer: str,
    table: str,
    slots: Iterable[RunSlot],
    schema: str,
    key: str,
    storage: Storage | None = None,
) -> DataFrame:
    """Many slots' published rows in one scan, each row tagged with its slot (`YYYY-MM-DDTHH`) in column `key`.

    For a long range read at once (a backfill): one scan of every file the slots' pointers list, with the given
    schema, and a broadcast join from each file to the slot(s) whose pointer lists it. A union of one read per slot
    (read_table) costs Spark a schema job per slot and tasks per slot in every action. Slots never published are
    skipped.
    """
    from pyspark.sql import functions as F

    storage = storage or storage_for(root)
    owners = [
        (_file_key(f), f, str(slot)) for slot, files in _published(storage, root, layer, table, slots) for f in files
    ]
    scan = spark.read.schema(schema).parquet(*sorted({f for _, f, _ in owners}))
    by_file = spark.createDataFrame([(k, slot) for k, _, slot in owners], f"_file string, `{key}` string")
    tagged = scan.withColumn("_file", F.regexp_extract(F.input_file_name(), _FILE_KEY, 1))
    return tagged.join(F.broadcast(by_file), "_file").drop("_file")


def read_arrow(
    root: str,
    layer: str,
    table: str,
    slots: Iterable[RunSlot],
    columns: list[str] | None = None,
    storage: Storage | None = None,
) -> pa.Table:
    """The same rows as read_table, as one Arrow table (no Spark), e.g. for the HTML report."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    storage = storage or storage_for(root)
    parts = []
    for slot, files in _published(storage, root, layer, table, slots):
        for path in files:
            try:
                part = pq.read_table(io.BytesIO(storage.read_bytes(path)), columns=columns)
            except (OSError, ValueError) as exc:
                raise JobError(f"{layer}/{table} for slot {slot} cannot be read at {path}: {exc}") from None
            values = slot.partition_values
            for name in PARTITION_COLUMNS:
                part = part.append_column(name, pa.array([values[name]] * part.num_rows, pa.string()))
            parts.append(part)
    return pa.concat_tables(parts, promote_options="default")


def read_rows(root: str, layer: str, table: str, slot: RunSlot, storage: Storage | None = None) -> list[dict[str, Any]]:
    """One slot's rows as dicts, without the partition columns."""
    rows = read_arrow(root, layer, table, [slot], storage=storage).drop_columns(list(PARTITION_COLUMNS)).to_pylist()
    return rows
