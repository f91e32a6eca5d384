"""DuckDB stand-ins for the Athena tables, built from the DDL files over a local data root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from infra.constructs.catalog import BUCKET_PLACEHOLDER, NamedQuerySpec, TableSpec

# DuckDB's DESCRIBE types, spelled as the DDL spells them.
DUCK_TO_HIVE = {
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP_NS": "timestamp",
}


def local_location(spec: TableSpec, root: str) -> str:
    """The table's LOCATION with the bucket replaced by a local data root."""
    return spec.location.replace(f"s3://{BUCKET_PLACEHOLDER}", root.rstrip("/")).rstrip("/")


def create_views(con: duckdb.DuckDBPyConnection, specs: list[TableSpec], root: str) -> None:
    """One view per DDL table, named like the Athena table, reading what the job wrote under root."""
    for spec in specs:
        where = local_location(spec, root)
        if spec.input_format.endswith("SymlinkTextInputFormat"):
            source = symlink_source(where, [name for name, _ in spec.partition_keys])
        elif spec.serde.endswith("OpenCSVSerde"):
            source = (
                f"read_csv('{where}/**/*.csv*', header=true, all_varchar=true, "
                "hive_partitioning=true, hive_types_autocast=false)"
            )
        else:  # the JSON manifests: read with the DDL's own column types
            columns = ", ".join(
                f"'{name}': '{exp.DataType.build(kind, dialect='hive').sql('duckdb')}'" for name, kind in spec.columns
            )
            source = f"read_json('{where}/*.json', format='newline_delimited', columns={{{columns}}})"
        con.execute(f"CREATE OR REPLACE VIEW {spec.name} AS SELECT * FROM {source}")


def symlink_source(where: str, partition_keys: list[str]) -> str:
    """What Athena reads of a symlink table: per partition folder, the Parquet files its symlink.txt lists."""
    selects = []
    for pointer in sorted(Path(where).glob("/".join(["*"] * len(partition_keys)) + "/symlink.txt")):
        files = pointer.read_text().split()
        values = dict(part.split("=", 1) for part in pointer.parent.relative_to(where).parts)
        partitions = ", ".join(f"'{values[key]}' AS {key}" for key in partition_keys)
        selects.append(f"SELECT *, {partitions} FROM read_parquet({files!r}, hive_partitioning=false)")
    return "(" + " UNION ALL BY NAME ".join(selects) + ")"


def to_duckdb(query: NamedQuerySpec, params: list[str]) -> str:
    """The Athena query in DuckDB's dialect, with its `?` parameters bound (in order) to string literals."""
    tree = sqlglot.parse_one(query.sql, read="athena")
    placeholders = list(tree.find_all(exp.Placeholder, bfs=False))  # source order
    if len(placeholders) != len(params):
        raise ValueError(f"{query.name} has {len(placeholders)} parameters, {len(params)} given")
    for node, value in zip(placeholders, params, strict=True):
        node.replace(exp.Literal.string(value))
    return tree.sql(dialect="duckdb")


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Run SQL and return its rows as dicts."""
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
