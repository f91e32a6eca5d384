"""The catalog's tables and named queries: Glue schemas as Iceberg writes them, and every saved query run by Spark on
the lake's Iceberg tables (a local Hadoop catalog) holding hand-made rows whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from etl.core.columns import PARTITION_COLUMNS, RAW_COLUMNS
from etl.publication.lake import LAKE_TABLES
from infra.constructs.catalog import (
    DDL_DIR,
    QUERIES_DIR,
    DdlError,
    iceberg_partition_spec,
    iceberg_schema,
    iceberg_type,
    load_named_queries,
    load_table_specs,
    parse_table_ddl,
)
from tests.athena_ddl.iceberg import append, create_tables, iceberg_session, rows, slot_values, to_spark

DB = "flight_kpis"
QUERIES = {query.name: query for query in load_named_queries()}
A, B = ("2026-11-22", "14"), ("2026-11-22", "16")  # two slots of one day

# Gold rows by table and slot, in the table's data-column order. Slot B has one rank-1 row per table (two, tied, in
# Q1), so a query that ignores the slot filter returns rows of the other slot and fails.
GOLD = {
    "airline_most_live_flights": {
        A: [(1, "AFR", "Air France", 12), (2, "DLH", "Lufthansa", 9), (3, "BAW", "British Airways", 4)],
        B: [(1, "UAL", "United", 15), (1, "DLH", "Lufthansa", 15), (2, "AFR", "Air France", 7)],
    },
    "airline_most_regional_flights_by_continent": {
        A: [
            ("Europe", 1, "RYR", "Ryanair", 30),
            ("Europe", 2, "EZY", "easyJet", 20),
            ("Asia", 1, "CES", "China Eastern", 25),
        ],
        B: [("Europe", 1, "EZY", "easyJet", 22)],
    },
    "longest_live_flight": {
        A: [(1, "f1", "QFA1", "QFA", "LHR", "SYD", 17016.0), (2, "f2", "SIA22", "SIA", "SIN", "EWR", 15344.0)],
        B: [(1, "f9", "UAE450", "UAE", "DXB", "AKL", 14200.5)],
    },
    "average_route_distance_by_continent": {
        A: [("Oceania", 1, 5000.5, 10), ("Europe", 2, 1200.0, 300)],
        B: [("Asia", 1, 3000.0, 50)],
    },
    "manufacturer_most_live_flights": {A: [(1, "Airbus", 500), (2, "Boeing", 450)], B: [(1, "Boeing", 480)]},
    "top_models_by_airline_country": {
        A: [
            ("France", 1, "A320", 40),
            ("France", 2, "A321", 30),
            ("France", 3, "A350", 10),
            ("France", 4, "B777", 5),
            ("Germany", 1, "A320", 20),
        ],
        B: [("France", 1, "A321", 33)],
    },
    "most_used_model_by_continent": {
        A: [("Europe", 1, "A320", 100), ("Europe", 2, "B738", 90), ("Asia", 1, "A320", 80)],
        B: [("Asia", 1, "B77W", 60)],
    },
    "airport_flow_imbalance": {
        A: [(1, "LHR", "Heathrow", 30, 10, 20), (2, "CDG", "Charles de Gaulle", 15, 10, 5)],
        B: [(1, "JFK", "John F. Kennedy", 25, 12, 13)],
    },
}
# Each per-slot query's answer for slot A (then B), written out: the query's columns after tech_day, tech_hour.
ANSWERS = {
    "01_q1_airline_most_live_flights": {
        A: [(1, "AFR", "Air France", 12)],
        B: [(1, "DLH", "Lufthansa", 15), (1, "UAL", "United", 15)],
    },
    "02_q2_airline_most_regional_flights_by_continent": {
        A: [("Asia", 1, "CES", "China Eastern", 25), ("Europe", 1, "RYR", "Ryanair", 30)],
        B: [("Europe", 1, "EZY", "easyJet", 22)],
    },
    "03_q3_longest_live_flight": {
        A: [(1, "f1", "QFA1", "QFA", "LHR", "SYD", 17016.0)],
        B: [(1, "f9", "UAE450", "UAE", "DXB", "AKL", 14200.5)],
    },
    "04_q4_average_route_distance_by_continent": {
        A: [("Oceania", 1, 5000.5, 10), ("Europe", 2, 1200.0, 300)],
        B: [("Asia", 1, 3000.0, 50)],
    },
    "05_q5_manufacturer_most_live_flights": {A: [(1, "Airbus", 500)], B: [(1, "Boeing", 480)]},
    "06_q6_top_models_by_airline_country": {
        A: [
            ("France", 1, "A320", 40),
            ("France", 2, "A321", 30),
            ("France", 3, "A350", 10),
            ("Germany", 1, "A320", 20),
        ],
        B: [("France", 1, "A321", 33)],
    },
    "07_q6b_most_used_model_by_continent": {
        A: [("Asia", 1, "A320", 80), ("Europe", 1, "A320", 100)],
        B: [("Asia", 1, "B77W", 60)],
    },
    "08_bonus_airport_flow_imbalance": {
        A: [(1, "LHR", "Heathrow", 30, 10, 20)],
        B: [(1, "JFK", "John F. Kennedy", 25, 12, 13)],
    },
}


def _run(run_id: str, slot: tuple[str, str], status: str, started: str, counts: tuple[int, int, int, int], error=None):
    raw, silver, quarantine, live = counts
    return {
        "run_id": run_id,
        "run_slot": f"{slot[0]}T{slot[1]}",
        "status": status,
        "source": "demo",
        "started_at": started,
        "finished_at": started,
        "capture_time": started,
        "error": error,
        "counts": {"raw": raw, "silver": silver, "quarantine": quarantine, "live_flights": live, "gold": {"q1": 3}},
        "cleaning_rules": {"duplicate_id": quarantine},
        "extraction": json.dumps({"tiles": 4}),
        "mapping_coverage": {"airline": 0.9},
        "quality": {
            "passed": error is None,
            "allow_degraded": False,
            "failed": [] if error is None else ["silver_share"],
            "checks": [
                {
                    "name": "silver_share",
                    "value": silver / raw,
                    "threshold": 0.5,
                    "passed": error is None,
                    "detail": None,
                }
            ],
        },
        "timings_s": {"total": 12.5},
        "versions": {"etl": "1"},
        "snapshots": {"silver_flights": 1},
        **slot_values(*slot),
    }


RUNS = [
    _run("r-a", A, "succeeded", "2026-11-22T14:00:05Z", (100, 90, 10, 70)),
    _run("r-b1", B, "succeeded", "2026-11-22T16:00:04Z", (120, 110, 10, 80)),
    _run("r-b2", B, "failed", "2026-11-22T16:30:00Z", (50, 20, 30, 0), error="quality gate failed"),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """The lake's tables in a local Hadoop catalog, filled with GOLD and RUNS: one Spark session for the module."""
    session = iceberg_session(str(tmp_path_factory.mktemp("warehouse")))
    create_tables(session, DB)
    for table, slots in GOLD.items():
        data_columns = list(LAKE_TABLES[table].data_columns)
        batch = [
            {**dict(zip(data_columns, values, strict=True)), "run_id": f"run-{slot[1]}", **slot_values(*slot)}
            for slot, table_rows in slots.items()
            for values in table_rows
        ]
        append(session, DB, table, batch)
    append(session, DB, "runs", RUNS)
    return session


def test_athena_ddl_holds_the_database_the_raw_table_and_the_queries_only():
    assert [p.name for p in sorted(DDL_DIR.glob("*.sql"))] == ["00_create_database.sql", "01_create_raw_flights.sql"]
    assert len(QUERIES) == 11
    for path in sorted(DDL_DIR.glob("*.sql")) + sorted(QUERIES_DIR.glob("*.sql")):
        assert len(sqlglot.parse(path.read_text(), read="athena")) == 1, path.name


def test_raw_is_a_partitioned_csv_table_of_text_with_a_header():
    (raw,) = load_table_specs()
    assert raw.name == "raw_flights"
    assert raw.columns == tuple((c, "string") for c in RAW_COLUMNS)
    assert raw.partition_keys == tuple((c, "string") for c in PARTITION_COLUMNS)
    assert raw.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert raw.parameters["skip.header.line.count"] == "1"
    assert raw.location == "s3://{{data_bucket}}/raw/flights/"
    assert raw.parameters["storage.location.template"] == (
        "s3://{{data_bucket}}/raw/flights/tech_year=${tech_year}/tech_month=${tech_month}/tech_day=${tech_day}/"
        "tech_hour=${tech_hour}/"
    )


def test_a_ddl_the_catalog_cannot_declare_is_refused(tmp_path):
    with pytest.raises(DdlError, match="EXTERNAL with a LOCATION"):
        parse_table_ddl("-- x\nCREATE EXTERNAL TABLE t (a string) STORED AS TEXTFILE", Path("99_bad.sql"))
    with pytest.raises(DdlError, match="STORED AS TEXTFILE"):
        parse_table_ddl("-- x\nCREATE EXTERNAL TABLE t (a string) STORED AS PARQUET LOCATION 's3://b/t/'")
    # A lake table is defined once, in etl/publication/lake.py: a DDL file for it stops the synth.
    (tmp_path / "02_create_runs.sql").write_text(
        "-- runs\nCREATE EXTERNAL TABLE runs (a string) ROW FORMAT SERDE 'x' STORED AS TEXTFILE LOCATION 's3://b/r/'"
    )
    with pytest.raises(DdlError, match=r"\['runs'\] are Iceberg tables defined in etl/publication/lake.py"):
        load_table_specs(tmp_path)


def test_spark_types_become_iceberg_types_nested_ones_included():
    ids = iter(range(100, 200))
    nested = exp.DataType.build("struct<a: bigint, b: array<struct<c: timestamp>>, d: map<string, double>>", "spark")
    assert iceberg_type(nested, ids) == {
        "type": "struct",
        "fields": [
            {"id": 100, "name": "a", "required": False, "type": "long"},
            {
                "id": 101,
                "name": "b",
                "required": False,
                "type": {
                    "type": "list",
                    "element-id": 103,
                    "element-required": False,
                    "element": {
                        "type": "struct",
                        "fields": [{"id": 104, "name": "c", "required": False, "type": "timestamptz"}],
                    },
                },
            },
            {
                "id": 102,
                "name": "d",
                "required": False,
                "type": {
                    "type": "map",
                    "key-id": 105,
                    "key": "string",
                    "value-id": 106,
                    "value": "double",
                    "value-required": False,
                },
            },
        ],
    }
    with pytest.raises(DdlError, match="no Iceberg type"):
        iceberg_type(exp.DataType.build("binary", "spark"), ids)


def test_glue_schemas_are_the_schemas_iceberg_gives_the_tables_spark_creates(spark, tmp_path_factory):
    # The Hadoop catalog writes each table's metadata JSON: its schema and spec are what Glue gets from the stack.
    warehouse = Path(spark.conf.get("spark.sql.catalog.lake.warehouse"))
    for name, table in LAKE_TABLES.items():
        (first,) = (warehouse / DB / name / "metadata").glob("v1.metadata.json")
        metadata = json.loads(first.read_text())
        assert iceberg_schema(table) == metadata["schemas"][0]["fields"], name
        (spec,) = metadata["partition-specs"]
        assert iceberg_partition_spec(table) == spec["fields"], name
        assert [f["name"] for f in spec["fields"]] == list(PARTITION_COLUMNS)


@pytest.mark.parametrize("query_name", sorted(ANSWERS))
def test_kpi_queries_give_the_rank_1_answers(spark, query_name):
    for slot, expected in ANSWERS[query_name].items():
        got = spark.sql(to_spark(QUERIES[query_name].sql, DB, list(slot))).collect()
        assert {(r["tech_day"], r["tech_hour"]) for r in got} == {slot}
        assert [tuple(r)[2:] for r in got] == expected, slot


def test_trend_query_gives_the_top_airlines_of_each_slot_of_the_day(spark):
    got = rows(spark, to_spark(QUERIES["10_trend_airline_live_flights_by_slot"].sql, DB, ["2026-11-22"]))
    assert [(r["tech_hour"], r["rank"], r["airline_icao"], r["live_flights"]) for r in got] == [
        ("14", 1, "AFR", 12),
        ("14", 2, "DLH", 9),
        ("14", 3, "BAW", 4),
        ("16", 1, "DLH", 15),
        ("16", 1, "UAL", 15),
        ("16", 2, "AFR", 7),
    ]
    assert rows(spark, to_spark(QUERIES["10_trend_airline_live_flights_by_slot"].sql, DB, ["2026-11-21"])) == []


def test_latest_run_is_the_newest_run_of_the_newest_slot_even_failed(spark):
    (got,) = rows(spark, to_spark(QUERIES["09_latest_run"].sql, DB))
    assert (got["run_id"], got["status"], got["error"]) == ("r-b2", "failed", "quality gate failed")
    assert (got["raw_rows"], got["silver_rows"], got["quarantine_rows"], got["live_flights"]) == (50, 20, 30, 0)
    assert (got["quality_passed"], got["failed_checks"]) == (False, ["silver_share"])


def test_runs_trend_lists_every_run_newest_first(spark):
    got = rows(spark, to_spark(QUERIES["11_trend_runs"].sql, DB))
    assert [(r["run_id"], r["status"], r["live_flights"]) for r in got] == [
        ("r-b2", "failed", 0),
        ("r-b1", "succeeded", 80),
        ("r-a", "succeeded", 70),
    ]
