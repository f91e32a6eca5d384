"""Table maintenance: what Glue's table optimizers do on AWS (infra/constructs/catalog.py), run here by `etl maintain`.

Each step is Iceberg's own Spark action with the settings of etl/publication/lake.py: snapshots older than
SNAPSHOT_RETENTION_DAYS expire (each table keeps its newest SNAPSHOTS_TO_RETAIN), files no snapshot references and
older than ORPHAN_FILE_RETENTION_DAYS are deleted, small data files are compacted. Nothing a published manifest
names is lost: a reader of an expired snapshot reads the slot's current rows of the same run (`Lake.read_at` with
Spark, `read_arrow` in etl/publication/tables.py without).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from etl.publication.lake import LAKE_TABLES, ORPHAN_FILE_RETENTION_DAYS, SNAPSHOT_RETENTION_DAYS, SNAPSHOTS_TO_RETAIN
from etl.publication.spark_lake import Lake


def maintain(lake: Lake, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Expire old snapshots, delete orphan files, compact small files; action -> table -> what it removed or wrote."""
    now = now or datetime.now(timezone.utc)
    return {
        "snapshots_expired": expire_snapshots(lake, _millis(now, SNAPSHOT_RETENTION_DAYS)),
        "orphan_files_removed": remove_orphan_files(lake, _millis(now, ORPHAN_FILE_RETENTION_DAYS)),
        "data_files_compacted": compact(lake),
    }


def _millis(now: datetime, days_before: float) -> int:
    return int((now - timedelta(days=days_before)).timestamp() * 1000)


def expire_snapshots(lake: Lake, cutoff_ms: int) -> dict[str, int]:
    """Expire each table's snapshots older than `cutoff_ms` (keeping the newest); table -> snapshots expired."""
    expired = {}
    for name in LAKE_TABLES:
        table = lake.java_table(name)
        before = [int(s.timestampMillis()) for s in table.snapshots()]
        if min(before, default=cutoff_ms) >= cutoff_ms:
            continue
        table.expireSnapshots().expireOlderThan(cutoff_ms).retainLast(SNAPSHOTS_TO_RETAIN).commit()
        table.refresh()
        expired[name] = len(before) - sum(1 for _ in table.snapshots())
    return expired


def remove_orphan_files(lake: Lake, cutoff_ms: int) -> dict[str, int]:
    """Delete each table's files that no snapshot references and older than `cutoff_ms`; table -> files deleted."""
    actions = _actions(lake)
    return {
        name: sum(
            1
            for _ in actions.deleteOrphanFiles(lake.java_table(name))
            .olderThan(cutoff_ms)
            .execute()
            .orphanFileLocations()
        )
        for name in LAKE_TABLES
    }


def compact(lake: Lake) -> dict[str, int]:
    """Rewrite small data files into fewer; table -> data files rewritten."""
    actions = _actions(lake)
    return {
        name: int(actions.rewriteDataFiles(lake.java_table(name)).execute().rewrittenDataFilesCount())
        for name in LAKE_TABLES
    }


def _actions(lake: Lake) -> Any:
    jvm = lake.spark.sparkContext._jvm
    assert jvm is not None, "the Spark session is stopped"
    return jvm.org.apache.iceberg.spark.actions.SparkActions.get(lake.spark._jsparkSession)
