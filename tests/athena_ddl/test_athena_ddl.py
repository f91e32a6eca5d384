"""The Athena DDL and named queries, checked against the column contracts and run by DuckDB on a real local run."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import sqlglot

from etl.columns import GOLD_SCHEMAS, PARTITION_COLUMNS, QUARANTINE_SCHEMA, RAW_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.layout import RunSlot, table_partition
from infra.constructs.catalog import (
    BUCKET_PLACEHOLDER,
    DDL_DIR,
    QUERIES_DIR,
    load_named_queries,
    load_table_specs,
    parse_table_ddl,
)
from tests.athena_ddl.duck import DUCK_TO_HIVE, create_views, local_location, rows, to_duckdb

SPECS = {spec.name: spec for spec in load_table_specs()}
QUERIES = {query.name: query for query in load_named_queries()}
EXPECTED_COLUMNS = {
    "raw_flights": {c: "string" for c in RAW_COLUMNS},
    "silver_flights": SILVER_FLIGHTS_SCHEMA,
    "quarantine_flights": QUARANTINE_SCHEMA,
    **GOLD_SCHEMAS,
}
# The answer each per-slot query gives, as a filter on the gold table's own rows.
ANSWERS = {
    "01_q1_airline_most_live_flights": ("airline_most_live_flights", lambda r: r["rank"] == 1),
    "02_q2_airline_most_regional_flights_by_continent": (
        "airline_most_regional_flights_by_continent",
        lambda r: r["rank"] == 1,
    ),
    "03_q3_longest_live_flight": ("longest_live_flight", lambda r: r["rank"] == 1),
    "04_q4_average_route_distance_by_continent": ("average_route_distance_by_continent", lambda r: True),
    "05_q5_manufacturer_most_live_flights": ("manufacturer_most_live_flights", lambda r: r["rank"] == 1),
    "06_q6_top_models_by_airline_country": ("top_models_by_airline_country", lambda r: r["rank"] <= 3),
    "07_q6b_most_used_model_by_continent": ("most_used_model_by_continent", lambda r: r["rank"] == 1),
    "08_bonus_airport_flow_imbalance": ("airport_flow_imbalance", lambda r: r["rank"] == 1),
}


@pytest.fixture(scope="module")
def con(lake):
    """DuckDB with one view per DDL table over the lake."""
    connection = duckdb.connect()
    create_views(connection, list(SPECS.values()), lake.root)
    yield connection
    connection.close()


def gold_rows(con, root: str, table: str, slot: RunSlot) -> list[dict]:
    """A gold table's rows for one slot, read from the files its pointer lists (no view, no DDL)."""
    files = (Path(table_partition(root, "gold", table, slot)) / "symlink.txt").read_text().split()
    return rows(con, f"SELECT * FROM read_parquet({files!r}, hive_partitioning=false)")


def test_every_file_is_one_athena_statement():
    files = sorted(DDL_DIR.glob("*.sql")) + sorted(QUERIES_DIR.glob("*.sql"))
    assert len(files) == 13 + 11
    for path in files:
        assert len(sqlglot.parse(path.read_text(), read="athena")) == 1, path.name


def test_tables_match_the_column_contracts():
    assert set(SPECS) == {*EXPECTED_COLUMNS, "runs"}
    for name, expected in EXPECTED_COLUMNS.items():
        assert dict(SPECS[name].columns) == expected, name
        assert [c for c, _ in SPECS[name].columns] == list(expected), f"{name}: column order"
        assert [k for k, _ in SPECS[name].partition_keys] == list(PARTITION_COLUMNS)
        assert all(kind == "string" for _, kind in SPECS[name].partition_keys)


def test_projection_addresses_the_partition_the_job_writes():
    slot = RunSlot.parse("2026-01-05T04")
    values = {"tech_year": "2026", "tech_month": "2026-01", "tech_day": "2026-01-05", "tech_hour": "04"}
    for name, spec in SPECS.items():
        if name == "runs":
            assert not spec.partition_keys
            continue
        props = spec.parameters
        assert props["projection.enabled"] == "true"
        assert props["projection.tech_year.format"] == "yyyy"
        assert props["projection.tech_month.format"] == "yyyy-MM"
        assert props["projection.tech_day.format"] == "yyyy-MM-dd"
        assert (props["projection.tech_hour.range"], props["projection.tech_hour.digits"]) == ("0,23", "2")
        path = props["storage.location.template"].replace(BUCKET_PLACEHOLDER, "b")
        for key, value in values.items():
            path = path.replace("${" + key + "}", value)
        layer, table = local_location(spec, "s3://b").removeprefix("s3://b/").split("/")
        assert path == table_partition("s3://b", layer, table, slot) + "/"


def test_published_tables_are_read_through_their_symlink_manifests():
    for name in ["silver_flights", "quarantine_flights", *GOLD_SCHEMAS]:
        spec = SPECS[name]
        assert spec.input_format == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat", name
        assert spec.output_format == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat", name
        assert spec.serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", name


def test_a_partition_folder_holds_the_pointer_only(lake):
    for name in ["silver_flights", "quarantine_flights", *GOLD_SCHEMAS]:
        folder = Path(local_location(SPECS[name], lake.root)) / lake.slots[0].partition_path
        # Athena reads every file of the folder as a symlink manifest; names starting with "." it skips.
        assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["symlink.txt"], name


def test_raw_is_csv_with_a_header_and_runs_is_json():
    raw, runs = SPECS["raw_flights"], SPECS["runs"]
    assert raw.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert raw.parameters["skip.header.line.count"] == "1"
    assert runs.serde == "org.openx.data.jsonserde.JsonSerDe"


def test_a_ddl_without_location_is_refused():
    with pytest.raises(ValueError, match="EXTERNAL with a LOCATION"):
        parse_table_ddl("-- x\nCREATE EXTERNAL TABLE t (a int) STORED AS PARQUET", Path("99_bad.sql"))


@pytest.mark.parametrize("table", ["silver_flights", "quarantine_flights", *GOLD_SCHEMAS])
def test_ddl_types_match_the_parquet_the_job_writes(con, lake, table):
    spec = SPECS[table]
    where = local_location(spec, lake.root) + "/data"
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{where}/**/*.parquet', hive_partitioning=false)")
    written = {name: DUCK_TO_HIVE[kind] for name, kind, *_ in described.fetchall()}
    assert written == dict(spec.columns)


@pytest.mark.parametrize("query_name", sorted(ANSWERS))
def test_kpi_queries_return_the_gold_answers(con, lake, query_name):
    table, is_answer = ANSWERS[query_name]
    for slot in lake.slots:
        day, hour = slot.partition_values["tech_day"], slot.partition_values["tech_hour"]
        got = rows(con, to_duckdb(QUERIES[query_name], [day, hour]))
        expected = [r for r in gold_rows(con, lake.root, table, slot) if is_answer(r)]
        assert expected, f"{table} has no answer for {slot}"
        assert {(g.pop("tech_day"), g.pop("tech_hour")) for g in got} == {(day, hour)}
        assert sorted(got, key=_row_key) == sorted(expected, key=_row_key)


def _row_key(row: dict) -> str:
    return repr(sorted(row.items()))


def test_trend_query_gives_each_slot_of_the_day(con, lake):
    day = lake.slots[0].partition_values["tech_day"]
    got = rows(con, to_duckdb(QUERIES["10_trend_airline_live_flights_by_slot"], [day]))
    expected = []
    for slot in lake.slots:
        for row in gold_rows(con, lake.root, "airline_most_live_flights", slot):
            if row["rank"] <= 10:
                expected.append({"tech_day": day, "tech_hour": slot.partition_values["tech_hour"], **row})
    assert len({r["tech_hour"] for r in got}) == len(lake.slots)
    assert sorted(got, key=_row_key) == sorted(expected, key=_row_key)


def test_latest_run_query_reads_the_newest_manifest(con, lake):
    newest = max(lake.manifests, key=lambda m: (m["run_slot"], m["started_at"], m["run_id"]))
    (got,) = rows(con, to_duckdb(QUERIES["09_latest_run"], []))
    assert got["run_id"] == newest["run_id"]
    assert (got["status"], got["error"]) == (newest["status"], newest["error"])
    assert got["live_flights"] == newest["counts"]["live_flights"]
    assert (got["raw_rows"], got["silver_rows"], got["quarantine_rows"]) == tuple(
        newest["counts"][k] for k in ("raw", "silver", "quarantine")
    )


def test_runs_trend_lists_every_run_newest_first(con, lake):
    got = rows(con, to_duckdb(QUERIES["11_trend_runs"], []))
    ordered = sorted(lake.manifests, key=lambda m: (m["run_slot"], m["started_at"], m["run_id"]), reverse=True)
    assert [(r["run_id"], r["live_flights"]) for r in got] == [
        (m["run_id"], m["counts"]["live_flights"]) for m in ordered
    ]


def test_raw_csv_header_is_the_ddl_column_order(lake):
    spec = SPECS["raw_flights"]
    for slot in lake.slots:
        (path,) = sorted(Path(local_location(spec, lake.root), slot.partition_path).glob("*.csv*"))
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == [name for name, _ in spec.columns]


def test_each_layer_view_counts_what_the_manifest_says(con, lake):
    for slot, manifest in zip(lake.slots, lake.manifests, strict=True):
        where = (
            f"tech_day = '{slot.partition_values['tech_day']}' AND tech_hour = '{slot.partition_values['tech_hour']}'"
        )
        for table, key in (("raw_flights", "raw"), ("silver_flights", "silver"), ("quarantine_flights", "quarantine")):
            (count,) = con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()
            assert count == manifest["counts"][key], (table, slot)
        (live,) = con.execute(
            f"SELECT count(*) FROM silver_flights WHERE {where} AND is_aircraft AND NOT on_ground"
        ).fetchone()
        assert live == manifest["counts"]["live_flights"]


def test_runs_table_reads_every_manifest_field_with_the_ddl_types(con, lake):
    got = {r["run_id"]: r for r in rows(con, "SELECT * FROM runs")}
    assert set(got) == {m["run_id"] for m in lake.manifests}
    for manifest in lake.manifests:
        row = got[manifest["run_id"]]
        assert (row["run_slot"], row["status"], row["capture_time"]) == (
            manifest["run_slot"],
            manifest["status"],
            manifest["capture_time"],
        )
        assert row["counts"]["gold"] == manifest["counts"]["gold"]
        assert row["cleaning_rules"] == manifest["cleaning_rules"]
        assert row["mapping_coverage"] == pytest.approx(manifest["mapping_coverage"])
        assert json.loads(row["extraction"]) == manifest["extraction"]  # kept as JSON text
