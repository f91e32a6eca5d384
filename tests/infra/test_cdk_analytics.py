"""The Catalog and Dashboard constructs in a small stack: Glue, Athena and QuickSight resources built from the files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_s3 as s3

from infra.constructs.catalog import Catalog, DdlError, load_named_queries, load_table_specs
from infra.constructs.dashboard import (
    QUICKSIGHT_TYPES,
    Dashboard,
    fill_data_set_arns,
    load_dashboard,
    load_data_set_specs,
    qualify_tables,
)
from tests.athena_ddl.duck import DUCK_TO_HIVE, create_views, rows

PRINCIPAL = "arn:aws:quicksight:eu-west-1:123456789012:user/default/analyst"
CUTOFF = 1_000_000_000
TABLES = {spec.name: spec for spec in load_table_specs()}
DATA_SETS = {spec.id: spec for spec in load_data_set_specs()}
DEFINITION = load_dashboard()["definition"]


def build(with_principal: bool) -> dict[str, Any]:
    """Synthesize a stack with two plain buckets, the catalog and, with a principal, the dashboard."""
    app = cdk.App()
    stack = cdk.Stack(app, "Analytics", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    data, results = s3.Bucket(stack, "Data"), s3.Bucket(stack, "Results")
    catalog = Catalog(
        stack,
        "Catalog",
        data_bucket=data,
        results_bucket=results,
        database_name="flight_kpis",
        bytes_scanned_cutoff_bytes=CUTOFF,
    )
    if with_principal:
        Dashboard(
            stack,
            "Dashboard",
            principal_arn=PRINCIPAL,
            database_name=catalog.database_name,
            workgroup_name=catalog.workgroup_name,
            data_bucket=data,
            results_bucket=results,
        )
    return assertions.Template.from_stack(stack)


@pytest.fixture(scope="module")
def templates() -> dict[bool, assertions.Template]:
    """Both variants, synthesized once for the module."""
    return {True: build(True), False: build(False)}


def of_type(template: assertions.Template, kind: str) -> dict[str, dict]:
    return template.find_resources(kind)


def test_glue_tables_are_the_ddl_tables(templates):
    template = templates[False]
    template.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": "flight_kpis"}})
    tables = {
        r["Properties"]["TableInput"]["Name"]: r["Properties"] for r in of_type(template, "AWS::Glue::Table").values()
    }
    assert set(tables) == set(TABLES)
    gold = tables["airline_most_live_flights"]
    assert gold["DatabaseName"] == "flight_kpis"
    descriptor = gold["TableInput"]["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        ("rank", "int"), ("airline_icao", "string"), ("airline_name", "string"), ("live_flights", "bigint")
    ]  # fmt: skip
    assert [c["Name"] for c in gold["TableInput"]["PartitionKeys"]] == [
        "tech_year",
        "tech_month",
        "tech_day",
        "tech_hour",
    ]
    assert (
        descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    # Read through the slot's symlink manifest (the pointer the job switches), never by listing the folder.
    assert descriptor["InputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    # The bucket placeholder became a reference to the data bucket, in LOCATION and in the projection template.
    location = json.dumps(descriptor["Location"])
    template_path = json.dumps(gold["TableInput"]["Parameters"]["storage.location.template"])
    for text in (location, template_path):
        assert "{{data_bucket}}" not in text and '"Ref": "Data' in text
    assert "/gold/airline_most_live_flights/tech_year=${tech_year}/tech_month=${tech_month}" in template_path
    assert gold["TableInput"]["Parameters"]["projection.tech_day.type"] == "date"
    raw = tables["raw_flights"]["TableInput"]
    assert raw["Parameters"]["skip.header.line.count"] == "1"
    assert raw["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"separatorChar": ",", "quoteChar": '"'}


def test_workgroup_is_enforced_encrypted_and_bounded(templates):
    templates[False].has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": "flight-kpis-analytics",
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "BytesScannedCutoffPerQuery": CUTOFF,
                "ResultConfiguration": {
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                    "OutputLocation": assertions.Match.any_value(),
                },
            },
        },
    )


def test_named_queries_are_the_query_files(templates):
    queries = {
        r["Properties"]["Name"]: r["Properties"] for r in of_type(templates[False], "AWS::Athena::NamedQuery").values()
    }
    expected = {q.name: q for q in load_named_queries()}
    assert set(queries) == set(expected)
    for name, props in queries.items():
        assert props["QueryString"] == expected[name].sql
        assert props["Database"] == "flight_kpis"
        assert "Ref" in props["WorkGroup"]  # the workgroup this construct created


def test_bad_catalog_settings_stop_the_synth():
    stack = cdk.Stack(cdk.App(), "Bad")
    bucket = s3.Bucket(stack, "B")
    with pytest.raises(DdlError, match="below Athena's minimum"):
        Catalog(stack, "C1", data_bucket=bucket, results_bucket=bucket, database_name="x", bytes_scanned_cutoff_bytes=5)
    with pytest.raises(DdlError, match="lower-case letters"):
        Catalog(
            stack,
            "C2",
            data_bucket=bucket,
            results_bucket=bucket,
            database_name="Bad-Name",
            bytes_scanned_cutoff_bytes=CUTOFF,
        )


def test_no_principal_no_quicksight(templates):
    assert not [
        r for r in templates[False].to_json()["Resources"].values() if r["Type"].startswith("AWS::QuickSight::")
    ]


def test_data_source_uses_the_workgroup_and_its_own_role(templates):
    template = templates[True]
    template.has_resource_properties(
        "AWS::QuickSight::DataSource",
        {
            "Type": "ATHENA",
            "DataSourceParameters": {
                "AthenaParameters": {"WorkGroup": "flight-kpis-analytics", "RoleArn": assertions.Match.any_value()}
            },
            "Permissions": [
                {"Principal": PRINCIPAL, "Actions": assertions.Match.array_with(["quicksight:PassDataSource"])}
            ],
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [assertions.Match.object_like({"Principal": {"Service": "quicksight.amazonaws.com"}})]
            }
        },
    )


def test_data_sets_cover_every_gold_table_live_flights_and_runs(templates):
    data_sets = {
        r["Properties"]["Name"]: r["Properties"] for r in of_type(templates[True], "AWS::QuickSight::DataSet").values()
    }
    assert len(data_sets) == len(DATA_SETS) == 10
    relational = {}
    for props in data_sets.values():
        assert props["ImportMode"] == "DIRECT_QUERY"
        assert props["Permissions"][0]["Principal"] == PRINCIPAL
        physical = props["PhysicalTableMap"]["physical"]
        if "RelationalTable" in physical:
            table = physical["RelationalTable"]
            relational[table["Name"]] = [(c["Name"], c["Type"]) for c in table["InputColumns"]]
            assert table["Schema"] == "flight_kpis"
        else:
            assert (
                '"flight_kpis".' in physical["CustomSql"]["SqlQuery"]
                or "flight_kpis." in physical["CustomSql"]["SqlQuery"]
            )
    assert set(relational) == {
        t for t in TABLES if t not in ("raw_flights", "silver_flights", "quarantine_flights", "runs")
    }
    spec = TABLES["longest_live_flight"]
    assert relational["longest_live_flight"] == [
        (n, QUICKSIGHT_TYPES[k]) for n, k in spec.columns + spec.partition_keys
    ]


def test_dashboard_definition_has_every_arn_filled(templates):
    (dashboard,) = of_type(templates[True], "AWS::QuickSight::Dashboard").values()
    text = json.dumps(dashboard["Properties"]["Definition"])
    assert "{{dataset:" not in text
    declarations = dashboard["Properties"]["Definition"]["DataSetIdentifierDeclarations"]
    assert all("Fn::GetAtt" in d["DataSetArn"] for d in declarations)
    assert dashboard["Properties"]["Permissions"][0]["Principal"] == PRINCIPAL


def _walk(value: Any):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def test_definition_refers_only_to_data_sets_and_columns_that_exist():
    declared = {d["Identifier"] for d in DEFINITION["DataSetIdentifierDeclarations"]}
    assert declared == set(DATA_SETS)
    fields: dict[str, set[str]] = {k: {name for name, _ in v.columns} for k, v in DATA_SETS.items()}
    for calc in DEFINITION["CalculatedFields"]:
        used = set(re.findall(r"\{(\w+)\}", calc["Expression"]))
        assert used <= fields[calc["DataSetIdentifier"]], calc
        fields[calc["DataSetIdentifier"]].add(calc["Name"])
    references = [n for n in _walk(DEFINITION) if "DataSetIdentifier" in n and "ColumnName" in n]
    assert references
    for ref in references:
        assert ref["ColumnName"] in fields[ref["DataSetIdentifier"]], ref
    for data_set in DATA_SETS.values():
        assert {c for c, _ in data_set.geographic_roles} <= fields[data_set.id]


def test_sheet_has_a_visual_per_kpi_a_map_and_a_trend():
    (sheet,) = DEFINITION["Sheets"]
    visuals = {next(iter(v.values()))["VisualId"]: (kind, body) for v in sheet["Visuals"] for kind, body in v.items()}
    assert len(visuals) == len(sheet["Visuals"])
    data_set_of = {
        vid: {r["DataSetIdentifier"] for r in _walk(body) if "DataSetIdentifier" in r}
        for vid, (_, body) in visuals.items()
    }
    gold = [t for t in DATA_SETS if DATA_SETS[t].table]
    assert sorted(next(iter(data_set_of[v])) for v in ("q1", "q2", "q3", "q4", "q5", "q6", "q6b", "bonus")) == sorted(
        gold
    )
    assert visuals["map"][0] == "GeospatialMapVisual" and data_set_of["map"] == {"live_flights"}
    assert visuals["trend"][0] == "LineChartVisual" and data_set_of["trend"] == {"runs_trend"}
    for group in DEFINITION["FilterGroups"]:
        for scope in group["ScopeConfiguration"]["SelectedSheets"]["SheetVisualScopingConfigurations"]:
            assert set(scope["VisualIds"]) <= set(visuals)
            (only,) = {d for v in scope["VisualIds"] for d in data_set_of[v]}
            assert {r["DataSetIdentifier"] for r in _walk(group["Filters"]) if "DataSetIdentifier" in r} == {only}


def test_unknown_data_set_in_the_definition_is_refused():
    with pytest.raises(DdlError, match="'nope'"):
        fill_data_set_arns({"DataSetArn": "{{dataset:nope}}"}, {"q": "arn"})


def test_custom_sql_is_qualified_with_the_database():
    assert qualify_tables("SELECT a FROM runs WHERE status = 'x'", "flight_kpis") == (
        "SELECT a FROM flight_kpis.runs WHERE status = 'x'"
    )


def test_custom_sql_data_sets_run_on_the_real_output(lake):
    con = duckdb.connect()
    create_views(con, list(TABLES.values()), lake.root)
    for data_set in (DATA_SETS["live_flights"], DATA_SETS["runs_trend"]):
        sql = qualify_tables(data_set.sql, "main")  # DuckDB's default schema holds the views
        described = con.execute(f"DESCRIBE {sql}").fetchall()
        assert [(name, DUCK_TO_HIVE[kind]) for name, kind, *_ in described] == list(data_set.columns)
    live = rows(con, DATA_SETS["live_flights"].sql)
    for slot, manifest in zip(lake.slots, lake.manifests, strict=True):
        values = slot.partition_values
        in_slot = [r for r in live if (r["tech_day"], r["tech_hour"]) == (values["tech_day"], values["tech_hour"])]
        assert len(in_slot) == manifest["counts"]["live_flights"]
    runs = rows(con, DATA_SETS["runs_trend"].sql)
    assert sorted((r["run_id"], r["live_flights"]) for r in runs) == sorted(
        (m["run_id"], m["counts"]["live_flights"]) for m in lake.manifests
    )


def test_cfn_lint_accepts_the_quicksight_and_glue_resources(templates, tmp_path):
    # cfn-lint knows the CloudFormation schema of every QuickSight definition element: a wrong key fails here.
    path = tmp_path / "analytics.template.json"
    path.write_text(json.dumps(templates[True].to_json()))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", "--regions", "eu-west-1", "--", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    findings = json.loads(done.stdout or "[]")
    assert [f for f in findings if f["Level"] in ("Error", "Warning")] == [], json.dumps(findings, indent=1)[:3000]
