"""Reading a test lake as Athena would (each table's current snapshot) and as the job's readers do (manifests)."""

from __future__ import annotations

from typing import Any

from etl.columns import PARTITION_COLUMNS, RUN_ID
from etl.layout import RunSlot
from etl.tables import load_table


def current_rows(root: str, table: str, slot: RunSlot, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """The slot's rows in the table's current snapshot (what a query of the table sees now)."""
    values = slot.partition_values
    scan = load_table(root, table).scan(
        row_filter=f"tech_day == '{values['tech_day']}' and tech_hour == '{values['tech_hour']}'",
        selected_fields=tuple(columns) if columns else ("*",),
    )
    return scan.to_arrow().to_pylist()


def data_rows(root: str, table: str, slot: RunSlot) -> list[tuple]:
    """The slot's current rows without run_id and partition columns, sorted: comparable across runs."""
    hidden = {RUN_ID, *PARTITION_COLUMNS}
    rows = current_rows(root, table, slot)
    return sorted((tuple((k, v) for k, v in r.items() if k not in hidden) for r in rows), key=repr)


def runs_of(root: str, table: str, slot: RunSlot) -> set[str]:
    """The run ids of the slot's current rows."""
    return {r[RUN_ID] for r in current_rows(root, table, slot, [RUN_ID])}
