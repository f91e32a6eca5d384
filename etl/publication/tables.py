"""The readers of published tables without Spark: pyiceberg at the snapshots a run manifest names.

A slot is read at the snapshot ids of its newest published manifest (`runs/<run_id>.json`, key `snapshots`), never
at whatever the table holds now: a run half-way through its commits, or one that died there, is invisible to these
readers. `etl show`, the HTML report and the tests read here; Spark reads the same snapshots in
etl/publication/publish.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.config import LakeSettings
from etl.core.errors import JobError, first_line
from etl.core.layout import WAREHOUSE, RunSlot, join
from etl.core.storage import is_s3, storage_for
from etl.publication.manifest import PUBLISHED, latest_manifest, read_manifests

if TYPE_CHECKING:
    import pyarrow as pa


_METADATA_RE = re.compile(r"v(\d+)\.metadata\.json$")


class TableNotPublishedError(JobError):
    """A table has no published data for the slot asked."""


def lake_settings_for(data_root: str, lake: LakeSettings | None = None) -> LakeSettings:
    """The lake of a data root: the given settings, else a Hadoop catalog locally and Glue on S3."""
    if lake is not None:
        return lake
    return LakeSettings(catalog="glue" if is_s3(data_root) else "hadoop")


def warehouse_of(data_root: str, lake: LakeSettings) -> str:
    """lake.warehouse, else `<data_root>/warehouse` (as JobConfig.warehouse)."""
    return lake.warehouse or join(data_root, WAREHOUSE)


def load_table(data_root: str, table: str, lake: LakeSettings | None = None) -> Any:
    """The pyiceberg table: from the Glue catalog, or from the Hadoop catalog's newest metadata file."""
    lake = lake_settings_for(data_root, lake)
    if lake.catalog == "glue":
        from pyiceberg.catalog import load_catalog

        try:
            return load_catalog("glue", type="glue").load_table((lake.database, table))
        except Exception as exc:
            raise JobError(f"table {lake.database}.{table} cannot be loaded from Glue: {exc}") from None
    from pyiceberg.table import StaticTable

    metadata = Path(warehouse_of(data_root, lake)) / lake.database / table / "metadata"
    hint = metadata / "version-hint.text"
    try:
        version = int(hint.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        # Iceberg's Hadoop catalog replaces the hint by deleting it, then renaming a new one in: a process killed in
        # between leaves none. As Iceberg itself does then, the newest vN.metadata.json is the table's current one.
        versions = [int(m.group(1)) for f in metadata.glob("v*.metadata.json") if (m := _METADATA_RE.match(f.name))]
        if not versions:
            raise TableNotPublishedError(
                f"table {table} has no Iceberg metadata under {metadata}: run `etl run` first"
            ) from None
        version = max(versions)
    except (ValueError, OSError) as exc:
        raise JobError(
            f"table {table}: {hint} cannot be read ({exc}): write in it the newest N of vN.metadata.json"
        ) from None
    current = metadata / f"v{version}.metadata.json"
    try:
        return StaticTable.from_metadata(str(current))
    except Exception as exc:
        raise JobError(
            f"table {table}: its metadata {current} is damaged or missing ({type(exc).__name__}): restore the file, "
            f"or write {version - 1} in {hint.name} to go back to the table's previous commit"
        ) from None


def published_manifest(data_root: str, slot: RunSlot | None = None, as_of: str | None = None) -> dict[str, Any] | None:
    """The manifest a reader follows: the newest published one of the slot (or of any slot), or run `as_of`."""
    storage = storage_for(data_root)
    if as_of is None:
        return latest_manifest(storage, data_root, slot, status=PUBLISHED)
    for manifest in read_manifests(storage, data_root):
        if manifest["run_id"] == as_of or manifest["run_id"].endswith(as_of):
            if manifest.get("status") not in PUBLISHED:
                raise JobError(f"run {manifest['run_id']} was not published (status {manifest.get('status')})")
            return manifest
    raise JobError(f"no run {as_of!r} under {data_root}/runs")


def read_arrow(
    data_root: str,
    table: str,
    manifest: dict[str, Any],
    columns: list[str] | None = None,
    lake: LakeSettings | None = None,
) -> pa.Table:
    """The rows of the manifest's slot in `table`, at the snapshot the manifest names (partition columns included)."""
    snapshot = (manifest.get("snapshots") or {}).get(table)
    slot = RunSlot.parse(manifest["run_slot"])
    if snapshot is None:
        raise TableNotPublishedError(f"{table}: run {manifest['run_id']} of slot {slot} names no snapshot of it")
    values = slot.partition_values
    row_filter = f"tech_day == '{values['tech_day']}' and tech_hour == '{values['tech_hour']}'"
    selected = tuple(columns) if columns else ("*",)
    try:
        loaded = load_table(data_root, table, lake)
        if loaded.snapshot_by_id(int(snapshot)) is not None:
            return loaded.scan(row_filter=row_filter, snapshot_id=int(snapshot), selected_fields=selected).to_arrow()
        # The snapshot was expired (retention): the table's rows of the slot still carry the run's id if it is current.
        owner = (manifest.get("table_runs") or {}).get(table) or manifest["run_id"]
        found = loaded.scan(row_filter=f"{row_filter} and {RUN_ID} == '{owner}'", selected_fields=selected).to_arrow()
        if found.num_rows == 0 and loaded.scan(row_filter=row_filter, selected_fields=(RUN_ID,)).to_arrow().num_rows:
            raise JobError(
                f"{table}: run {manifest['run_id']} of slot {slot} was replaced and its snapshot {snapshot} has "
                "expired (snapshots are kept 3 days): it can no longer be read"
            )
        return found
    except JobError:
        raise
    except Exception as exc:  # a damaged or deleted metadata or data file
        raise JobError(
            f"{table} for slot {slot} cannot be read at snapshot {snapshot}: {type(exc).__name__}: "
            f"{first_line(exc)} (the table's files are damaged: restore them, or "
            f"re-run the slot with `etl run --run-slot {slot}`)"
        ) from None


def read_rows(
    data_root: str, table: str, manifest: dict[str, Any], lake: LakeSettings | None = None
) -> list[dict[str, Any]]:
    """The slot's rows as dicts, without run_id and the partition columns."""
    found = read_arrow(data_root, table, manifest, lake=lake)
    drop = [c for c in (RUN_ID, *PARTITION_COLUMNS) if c in found.column_names]
    return found.drop_columns(drop).to_pylist()
