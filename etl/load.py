"""Publishing a run's tables: every partition is staged first, then swapped in, so a failed run publishes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame

from etl.layout import RunSlot, join, table_partition
from etl.storage import Storage


@dataclass
class Publication:
    """The partitions of one run: written under `_staging/<run_id>/`, then moved into place by `commit`."""

    storage: Storage
    data_root: str
    run_id: str
    slot: RunSlot
    staged: dict[str, str] = field(default_factory=dict)  # "layer/table" -> staging path

    @property
    def staging_root(self) -> str:
        return join(self.data_root, "_staging", self.run_id)

    def stage(self, df: DataFrame, layer: str, table: str, files: int = 1) -> str:
        """Write one table's rows for the slot as Parquet under staging; nothing is visible yet."""
        path = join(self.staging_root, layer, table)
        # A slot of one table is small (at most tens of thousands of rows): few files keep Athena scans cheap.
        df.coalesce(files).write.mode("overwrite").parquet(path)
        self.staged[f"{layer}/{table}"] = path
        return path

    def final_path(self, key: str) -> str:
        """Where a staged table lands: `<root>/<layer>/<table>/<partitions>`."""
        layer, table = key.split("/", 1)
        return table_partition(self.data_root, layer, table, self.slot)

    def commit(self) -> dict[str, str]:
        """Swap every staged partition in, replacing that slot's previous partition and touching no other slot."""
        published = {}
        for key, staged in self.staged.items():
            final = self.final_path(key)
            self.storage.replace_tree(staged, final)
            published[key] = final
        self.discard()
        return published

    def discard(self) -> None:
        """Remove whatever was staged (after a commit, or when the run failed)."""
        self.storage.delete_tree(self.staging_root)
