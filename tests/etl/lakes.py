"""Reading a test lake as Athena would (each table's current snapshot) and as the job's readers do (manifests)."""

from __future__ import annotations

from typing import Any

from etl.core.columns import PARTITION_COLUMNS, RUN_ID
from etl.core.layout import RunSlot
from etl.publication.tables import load_table


def current_rows(root: str, table: str, slot: RunSlot, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """The slot's rows in the table's current snapshot (what a query of the table sees now)."""
    values = slot.partition_values
    scan = load_table(root, table).scan(
        row_filter=f"tech_day == '{values['tech_day']}' and tech_hour == '{values['tech_hour']}'",
        selected_fields=tuple(columns) if columns else ("*",),
    )
    return scan.to_arrow().to_pylist()


def data_rows(root: str, table: str, slot: RunSlot) -> list[tuple]:
    """The slot's current rows without run_id and partition columns, floats to 12 significant digits, sorted:
    comparable across runs.

    An average's sum is added in the order Spark's tasks deliver their parts, which may differ between two runs on
    the same rows in the last bit (1848.0322150493685 against ...682): a rerun's rows once differed so.
    """
    hidden = {RUN_ID, *PARTITION_COLUMNS}
    rows = current_rows(root, table, slot)
    return sorted((tuple((k, _same(v)) for k, v in r.items() if k not in hidden) for r in rows), key=repr)


def _same(value: Any) -> Any:
    return float(f"{value:.12g}") if isinstance(value, float) else value


def runs_of(root: str, table: str, slot: RunSlot) -> set[str]:
    """The run ids of the slot's current rows."""
    return {r[RUN_ID] for r in current_rows(root, table, slot, [RUN_ID])}


def publish_rows(spark: Any, root: str, slot: RunSlot, frames: dict[str, Any], **manifest_fields: Any) -> dict:
    """Publish data frames (a table's data columns) as one slot's tables, with a succeeded manifest naming them."""
    from datetime import datetime, timezone

    from pyspark.sql import functions as F

    from etl.core.config import JobConfig
    from etl.core.storage import LocalStorage
    from etl.orchestration.pipeline import open_lake
    from etl.publication.lake import LAKE_TABLES
    from etl.publication.manifest import Manifest, new_run_id
    from etl.publication.publish import with_run_columns
    from etl.transform.enrich import SLOT_KEY

    lake = open_lake(spark, JobConfig(data_root=root, run_slot=slot))
    run_id = new_run_id(slot, datetime.now(timezone.utc))
    manifest = Manifest(run_id=run_id, run_slot=slot, source="test", started_at=datetime.now(timezone.utc))
    for table, df in frames.items():
        tagged = with_run_columns(
            df.withColumn(SLOT_KEY, F.lit(str(slot))), SLOT_KEY, {slot: run_id}, LAKE_TABLES[table]
        )
        manifest.snapshots[table] = lake.commit(table, tagged, [slot], {str(slot): run_id}, None)
    manifest.status = "succeeded"
    for key, value in manifest_fields.items():
        setattr(manifest, key, value)
    manifest.write(LocalStorage(), root)
    return manifest.to_dict()


def a_published_slot(spark: Any, root: str, slot: RunSlot) -> dict:
    """A slot published with one silver row (run by hand, not by the job): a good slot for fault tests to keep."""
    from datetime import datetime

    from etl.core.columns import SILVER_FLIGHTS_SCHEMA

    values = {name: None for name in SILVER_FLIGHTS_SCHEMA}
    values.update(flight_id="good1", latitude=48.0, longitude=2.0, position_time=datetime(2026, 11, 22, 13, 59))
    values.update(on_ground=False, is_aircraft=True, track_type="aircraft")
    schema = ", ".join(f"`{n}` {t}" for n, t in SILVER_FLIGHTS_SCHEMA.items())
    silver = spark.createDataFrame([tuple(values[n] for n in SILVER_FLIGHTS_SCHEMA)], schema)
    return publish_rows(spark, root, slot, {"silver_flights": silver})
