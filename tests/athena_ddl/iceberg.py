"""The lake's Iceberg tables in a local Hadoop catalog, made with Spark, for running Athena's SQL on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot
from pyspark.sql import SparkSession
from sqlglot import exp

from etl.core.columns import PARTITION_COLUMNS
from etl.core.spark_session import BASE_SETTINGS, session_builder
from etl.publication.lake import LAKE_TABLES, catalog_settings, identifier, runtime_jar


def iceberg_session(warehouse: str) -> SparkSession:
    """A Spark session whose `lake` catalog is a Hadoop catalog under `warehouse` (Iceberg's runtime on the classpath).

    The process has one Spark context: it is started here with the jar if none runs yet; a context already running
    must have the jar (`spark.jars`), and each caller gets its own session (own catalog) on it.
    """
    jar = runtime_jar()
    active = SparkSession.getActiveSession()
    if active is None:
        settings = {**BASE_SETTINGS, "spark.sql.shuffle.partitions": "4", "spark.jars": jar}
        active = session_builder("flight-kpis-tests", "local[2]", settings).getOrCreate()
    if jar not in active.sparkContext.getConf().get("spark.jars", ""):
        raise RuntimeError("a Spark context without Iceberg's runtime jar is already running: start it with spark.jars")
    session = active.newSession()
    for key, value in catalog_settings("hadoop", warehouse).items():
        session.conf.set(key, value)
    return session


def create_tables(spark: SparkSession, database: str) -> None:
    """Every table of etl/publication/lake.py, empty, partitioned by the slot as the job writes it."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {identifier(database, '')[:-1]}")
    partitions = ", ".join(PARTITION_COLUMNS)
    for table in LAKE_TABLES.values():
        spark.sql(
            f"CREATE TABLE {identifier(database, table.name)} ({table.ddl_columns()}) USING iceberg "
            f"PARTITIONED BY ({partitions})"
        )


def slot_values(day: str, hour: str) -> dict[str, str]:
    """The partition columns of the slot `day` ('YYYY-MM-DD') `hour` ('HH')."""
    return {"tech_year": day[:4], "tech_month": day[:7], "tech_day": day, "tech_hour": hour}


def append(spark: SparkSession, database: str, table: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (every column of the table, by name) to a lake table."""
    columns = list(LAKE_TABLES[table].columns)
    data = [tuple(row[c] for c in columns) for row in rows]
    frame = spark.createDataFrame(data, schema=LAKE_TABLES[table].ddl_columns())
    frame.writeTo(identifier(database, table)).append()


def to_spark(sql: str, database: str, params: Sequence[str] = ()) -> str:
    """Athena SQL as Spark runs it on the lake: tables as `lake.<database>.<table>`, `?` bound in order to strings."""
    tree = sqlglot.parse_one(sql, read="athena")
    placeholders = list(tree.find_all(exp.Placeholder, bfs=False))  # source order
    if len(placeholders) != len(params):
        raise ValueError(f"the query has {len(placeholders)} parameters, {len(params)} given")
    for node, value in zip(placeholders, params, strict=True):
        node.replace(exp.Literal.string(value))
    for table in tree.find_all(exp.Table):
        table.set("catalog", exp.to_identifier("lake"))
        table.set("db", exp.to_identifier(database))
    return tree.sql(dialect="spark")


def rows(spark: SparkSession, sql: str) -> list[dict[str, Any]]:
    """Run Spark SQL and return its rows as dicts (structs as dicts)."""
    return [row.asDict(recursive=True) for row in spark.sql(sql).collect()]
