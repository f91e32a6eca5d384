"""The lake's Iceberg tables: their names, schemas and partitioning (defined once), and the Spark catalog settings.

Every published table is an Apache Iceberg table, partitioned by the run slot (identity on `tech_year`,
`tech_month`, `tech_day`, `tech_hour`, the kata's zero-padded strings), and every row carries the `run_id` of the run
that wrote it. Spark reaches them through one catalog, `lake` (CATALOG):
- locally a filesystem (Hadoop) catalog under `<data_root>/warehouse`, with Iceberg's Spark runtime jar from the
  locked wheel `snowpark-connect-deps-iceberg` (checked against RUNTIME_JAR_SHA256 before Spark starts);
- on EMR the Glue Data Catalog through the release's own Iceberg (`iceberg-defaults`), warehouse in the data bucket.
The Glue tables themselves are created by the CDK stack from LAKE_TABLES (infra/constructs/catalog.py), so Athena
and QuickSight resolve them before any run; a run creates a table only where the catalog lacks it (locally).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.core.columns import (
    GOLD_SCHEMAS,
    PARTITION_COLUMNS,
    QUARANTINE_SCHEMA,
    RUN_ID,
    RUNS_SCHEMA,
    SILVER_FLIGHTS_SCHEMA,
)
from etl.core.errors import JobError
from etl.core.layout import join
from etl.core.storage import Storage

CATALOG = "lake"  # the Spark catalog name of the Iceberg tables, locally and on EMR

# Iceberg's Spark runtime for Spark 3.5 / Scala 2.12, as the locked wheel ships it (47,157,008 bytes).
RUNTIME_JAR = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
RUNTIME_JAR_SHA256 = "c562d482dcd16b666e808b755469fbc4b2604284b41622c9d87e2c02b7cc6c5f"
RUNTIME_JAR_BYTES = 47_157_008
ICEBERG_VERSION = "1.10.2"

# Table maintenance, the same on AWS (Glue's table optimizers, infra/constructs/catalog.py) and locally
# (`etl maintain`): snapshots older than 3 days expire, each table keeping its newest; files no snapshot references go
# after 3 days, longer than any run, so a running commit's files are never taken; small files are compacted.
SNAPSHOT_RETENTION_DAYS = 3
SNAPSHOTS_TO_RETAIN = 1
ORPHAN_FILE_RETENTION_DAYS = 3


class LakeError(JobError):
    """The lake cannot be used as it is: the message names the table or file and what to do."""


@dataclass(frozen=True)
class LakeTable:
    """One Iceberg table: its name (the same in Glue, Athena and the local catalog) and its columns in order."""

    name: str
    columns: dict[str, str]  # name -> Spark SQL type: the data columns, run_id, then the partition columns
    description: str

    @property
    def data_columns(self) -> dict[str, str]:
        """The columns a stage computes (no run_id, no partition column)."""
        return {c: t for c, t in self.columns.items() if c != RUN_ID and c not in PARTITION_COLUMNS}

    def ddl_columns(self) -> str:
        """`a string, b int, ...`: the schema as Spark SQL reads it."""
        return ", ".join(f"`{c}` {t}" for c, t in self.columns.items())


def _table(name: str, columns: dict[str, str], description: str) -> LakeTable:
    return LakeTable(name, {**columns, RUN_ID: "string", **dict.fromkeys(PARTITION_COLUMNS, "string")}, description)


SILVER = _table("silver_flights", SILVER_FLIGHTS_SCHEMA, "Clean flights: typed, de-duplicated, non-aircraft flagged")
QUARANTINE = _table("quarantine_flights", QUARANTINE_SCHEMA, "Rejected raw rows, as text, with the reason")
GOLD: dict[str, LakeTable] = {
    name: _table(name, schema, f"KPI {name}: the whole ranking, rank 1 is the answer")
    for name, schema in GOLD_SCHEMAS.items()
}
RUNS = _table("runs", RUNS_SCHEMA, "One row per run: status, counts, the gate and each table's snapshot id")
# Every table the job publishes, in the order a run commits them (runs last: it records the others).
LAKE_TABLES: dict[str, LakeTable] = {t.name: t for t in (SILVER, QUARANTINE, *GOLD.values(), RUNS)}
SLOT_TABLES: tuple[str, ...] = tuple(name for name in LAKE_TABLES if name != RUNS.name)  # one overwrite per slot


def identifier(database: str, table: str) -> str:
    """`lake.<database>.<table>`, the name Spark reads and writes."""
    return f"{CATALOG}.{database}.{table}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def runtime_jar() -> str:
    """The checked path of Iceberg's Spark runtime jar (locally); raise LakeError naming what is wrong."""
    try:
        import snowpark_connect_deps_iceberg
    except ImportError:
        raise LakeError(
            "Iceberg's Spark runtime is not installed (package snowpark-connect-deps-iceberg): run `make setup`"
        ) from None
    jar = Path(snowpark_connect_deps_iceberg.__file__).parent / "jars" / RUNTIME_JAR
    if not jar.is_file():
        raise LakeError(f"Iceberg's Spark runtime {jar} is missing: reinstall with `make setup`")
    if jar.stat().st_size != RUNTIME_JAR_BYTES or _sha256(jar) != RUNTIME_JAR_SHA256:
        raise LakeError(f"Iceberg's Spark runtime {jar} is not the locked jar (size or SHA-256): run `make setup`")
    return str(jar)


def catalog_settings(catalog: str, warehouse: str) -> dict[str, str]:
    """The Spark settings of the `lake` catalog: a Hadoop catalog under `warehouse`, or Glue with it as warehouse.

    Catalogs are loaded on first use, so these may be set on a running session (the EMR step) as well as at start.
    """
    prefix = f"spark.sql.catalog.{CATALOG}"
    settings = {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.warehouse": _hadoop_uri(warehouse),
        # Every read sees the table's newest commit: a cached table could miss another process's commit (a repair,
        # a concurrent run) and time travel to a snapshot it does not know.
        f"{prefix}.cache-enabled": "false",
    }
    if catalog == "glue":
        settings[f"{prefix}.type"] = "glue"
        settings[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
    else:
        settings[f"{prefix}.type"] = "hadoop"
    return settings


# What a lake of the former layout (Parquet behind Hive symlink pointers) holds beside raw/ and runs/.
POINTER_LAYOUT = ("silver/flights", "quarantine/flights", "gold", "_publish")


def refuse_pointer_layout(storage: Storage, root: str) -> None:
    """Stop, saying how to move on, when the data root holds a lake of the former pointer layout."""
    found = [part for part in POINTER_LAYOUT if storage.exists(join(root, part))]
    if found:
        raise LakeError(
            f"{root} holds tables of the former pointer layout ({', '.join(p + '/' for p in found)}): move them "
            f"aside, then rebuild the Iceberg tables from the raw captures with `python -m etl backfill --data-root "
            f"{root} --from FIRST_SLOT --to LAST_SLOT --from-raw`"
        )


def _hadoop_uri(path: str) -> str:
    """A warehouse as Hadoop reads it: s3:// stays, a local folder becomes absolute."""
    if "://" in path:
        return path
    return str(Path(path).resolve())
