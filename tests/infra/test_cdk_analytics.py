"""The Catalog and Dashboard constructs in a small stack: Glue, Athena and QuickSight resources built from the files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_s3 as s3

from etl.core.columns import PARTITION_COLUMNS
from etl.publication.lake import LAKE_TABLES
from infra.constructs.catalog import (
    OPTIMIZER_TYPES,
    Catalog,
    DdlError,
    iceberg_partition_spec,
    iceberg_schema,
    load_named_queries,
)
from infra.constructs.dashboard import (
    ATHENA_CATALOG_ACTIONS,
    QUICKSIGHT_TYPES,
    WINDOW_EXPRESSION,
    Dashboard,
    bounded_sql,
    fill_data_set_arns,
    load_dashboard,
    load_data_set_specs,
    qualify_tables,
)
from tests.athena_ddl.iceberg import append, create_tables, iceberg_session, rows, slot_values, to_spark

PRINCIPAL = "arn:aws:quicksight:eu-west-1:123456789012:user/default/analyst"
CUTOFF = 1_000_000_000
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


def _tables(template: assertions.Template) -> dict[str, dict]:
    tables = {}
    for resource in of_type(template, "AWS::Glue::Table").values():
        props = resource["Properties"]
        tables[props.get("Name") or props["TableInput"]["Name"]] = props
    return tables


def test_every_lake_table_is_an_iceberg_table_in_glue(templates):
    template = templates[False]
    template.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": "flight_kpis"}})
    tables = _tables(template)
    assert set(tables) == {*LAKE_TABLES, "raw_flights"}
    for name, table in LAKE_TABLES.items():
        props = tables[name]
        assert props["DatabaseName"] == "flight_kpis"
        assert "TableInput" not in props  # Glue writes the Iceberg metadata and table_type=ICEBERG itself
        iceberg = props["OpenTableFormatInput"]["IcebergInput"]
        assert (iceberg["MetadataOperation"], iceberg["Version"]) == ("CREATE", "2")
        table_input = iceberg["IcebergTableInput"]
        location = json.dumps(table_input["Location"])
        assert '"Ref": "Data' in location and f"/warehouse/flight_kpis.db/{name}" in location
        assert [f["Name"] for f in table_input["Schema"]["Fields"]] == list(table.columns)
        assert [(p["Name"], p["Transform"]) for p in table_input["PartitionSpec"]["Fields"]] == [
            (c, "identity") for c in PARTITION_COLUMNS
        ]
        assert "projection.enabled" not in json.dumps(props)
    gold = tables["airline_most_live_flights"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]
    assert [(f["Id"], f["Name"], f["Type"], f["Required"]) for f in gold["Schema"]["Fields"]] == [
        (1, "rank", "int", False), (2, "airline_icao", "string", False), (3, "airline_name", "string", False),
        (4, "live_flights", "long", False), (5, "run_id", "string", False), (6, "tech_year", "string", False),
        (7, "tech_month", "string", False), (8, "tech_day", "string", False), (9, "tech_hour", "string", False),
    ]  # fmt: skip
    assert [(p["SourceId"], p["FieldId"]) for p in gold["PartitionSpec"]["Fields"]] == [
        (6, 1000), (7, 1001), (8, 1002), (9, 1003)
    ]  # fmt: skip
    runs = tables["runs"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]
    fields = {f["Name"]: f for f in runs["Schema"]["Fields"]}
    # Nested types are Iceberg's JSON types, as the tests of tests/athena_ddl check Spark creates them.
    schema = {f["name"]: f for f in iceberg_schema(LAKE_TABLES["runs"])}
    assert json.loads(fields["counts"]["Type"]) == schema["counts"]["type"]
    assert json.loads(fields["counts"]["Type"])["fields"][4]["type"]["type"] == "map"
    assert [p["source-id"] for p in iceberg_partition_spec(LAKE_TABLES["runs"])] == [
        p["SourceId"] for p in runs["PartitionSpec"]["Fields"]
    ]


def test_raw_flights_stays_a_hive_csv_table_over_the_raw_prefix(templates):
    raw = _tables(templates[False])["raw_flights"]["TableInput"]
    descriptor = raw["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert descriptor["SerdeInfo"]["Parameters"] == {"separatorChar": ",", "quoteChar": '"'}
    assert descriptor["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    location = json.dumps(descriptor["Location"])
    assert "{{data_bucket}}" not in location and '"Ref": "Data' in location and "/raw/flights/" in location
    assert raw["Parameters"]["skip.header.line.count"] == "1"
    assert [c["Name"] for c in raw["PartitionKeys"]] == list(PARTITION_COLUMNS)


def test_each_iceberg_table_has_the_three_optimizers_with_their_role(templates):
    template = templates[False]
    optimizers = of_type(template, "AWS::Glue::TableOptimizer").values()
    kinds: dict[str, set[str]] = {}
    for optimizer in optimizers:
        props = optimizer["Properties"]
        kinds.setdefault(props["TableName"], set()).add(props["Type"])
        config = props["TableOptimizerConfiguration"]
        assert config["Enabled"] is True
        assert config["RoleArn"]["Fn::GetAtt"][0].startswith("CatalogOptimizerRole")
        if props["Type"] == "retention":
            assert config["RetentionConfiguration"]["IcebergConfiguration"] == {
                "SnapshotRetentionPeriodInDays": 3,
                "NumberOfSnapshotsToRetain": 1,
                "CleanExpiredFiles": True,
            }
        elif props["Type"] == "orphan_file_deletion":
            assert config["OrphanFileDeletionConfiguration"]["IcebergConfiguration"] == {
                "OrphanFileRetentionPeriodInDays": 3
            }
        else:
            assert config["CompactionConfiguration"]["IcebergConfiguration"] == {"Strategy": "binpack"}
    assert kinds == {name: set(OPTIMIZER_TYPES) for name in LAKE_TABLES}
    (role,) = [r for k, r in of_type(template, "AWS::IAM::Role").items() if k.startswith("CatalogOptimizerRole")]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "glue.amazonaws.com"
    }
    (policy,) = [p for k, p in of_type(template, "AWS::IAM::Policy").items() if k.startswith("CatalogOptimizerRole")]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["UpdateTables"]["Action"] == ["glue:GetTable", "glue:UpdateTable"]
    assert "table/flight_kpis/*" in json.dumps(statements["UpdateTables"]["Resource"])
    assert statements["RewriteWarehouse"]["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    assert "/warehouse/*" in json.dumps(statements["RewriteWarehouse"]["Resource"])
    assert "/aws-glue/iceberg-retention/logs:*" in json.dumps(statements["WriteOptimizerLogs"]["Resource"])


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
    assert set(relational) == {t for t in LAKE_TABLES if t not in ("silver_flights", "quarantine_flights", "runs")}
    assert relational["longest_live_flight"] == [
        (n, QUICKSIGHT_TYPES[k]) for n, k in LAKE_TABLES["longest_live_flight"].columns.items()
    ]


def test_every_data_set_reads_the_last_7_days_only_without_logical_table_map(templates):
    data_sets = {
        r["Properties"]["DataSetId"]: r["Properties"]
        for r in of_type(templates[True], "AWS::QuickSight::DataSet").values()
    }
    assert len(data_sets) == 10
    for data_set_id, props in data_sets.items():
        assert "LogicalTableMap" not in props  # deprecated (cfn-lint W9009): DataPrepConfiguration replaces it
        prep = props["DataPrepConfiguration"]
        assert prep["SourceTableMap"] == {"source": {"PhysicalTableId": "physical"}}
        (destination,) = prep["DestinationTableMap"].values()
        physical = props["PhysicalTableMap"]["physical"]
        if "RelationalTable" in physical:
            window = prep["TransformStepMap"]["window"]["FiltersStep"]
            assert window["FilterOperations"] == [
                {"ConditionExpression": "{tech_day} >= formatDate(addDateTime(-7, 'DD', now()), 'yyyy-MM-dd')"}
            ]
            assert window["Source"] == {"TransformOperationId": "import"}
            assert destination["Source"] == {"TransformOperationId": "window"}
        else:  # custom SQL: the bound is in the query, where Athena prunes the partitions
            assert physical["CustomSql"]["SqlQuery"].endswith(
                "tech_day >= DATE_FORMAT(CURRENT_DATE - INTERVAL '7' DAY, '%Y-%m-%d')"
            ), data_set_id
            assert set(prep["TransformStepMap"]) == {"import"}
    assert WINDOW_EXPRESSION.startswith("{tech_day} >= ")
    roles = data_sets["flight-kpis-live-flights"]["SemanticModelConfiguration"]["TableMap"]["semantic"]
    assert roles["DestinationTableId"] == "destination"
    assert [
        (m["ColumnNames"], m["ColumnProperties"][0]["SemanticType"]["GeographicalRole"])
        for m in roles["SemanticMetadata"]["ColumnMetadata"]
    ] == [(["latitude"], "LATITUDE"), (["longitude"], "LONGITUDE")]


def test_quicksight_role_reads_the_catalog_as_the_managed_policy_does_scoped_to_this_database(templates):
    template = templates[True]
    (policy,) = [p for k, p in of_type(template, "AWS::IAM::Policy").items() if k.startswith("DashboardAthenaAccess")]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    athena = statements["ReadCatalogThroughAthena"]
    assert sorted(athena["Action"]) == sorted(
        [
            "athena:GetDataCatalog",
            "athena:GetDatabase",
            "athena:GetTableMetadata",
            "athena:ListDatabases",
            "athena:ListTableMetadata",
        ]
    )
    assert athena["Action"] == ATHENA_CATALOG_ACTIONS
    assert json.dumps(athena["Resource"]).endswith(':datacatalog/AwsDataCatalog"]]}')
    assert statements["ListWorkGroups"]["Action"] == "athena:ListWorkGroups"
    assert statements["ListWorkGroups"]["Resource"] == "*"  # the action has no resource type
    glue = statements["ReadCatalog"]
    assert sorted(glue["Action"]) == [
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:GetTable",
        "glue:GetTables",
    ]
    resources = json.dumps(glue["Resource"])
    assert ":database/flight_kpis" in resources and ":table/flight_kpis/*" in resources
    assert "/warehouse/*" in json.dumps(statements["ReadData"]["Resource"])


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


@pytest.fixture(scope="module")
def window_lake(tmp_path_factory):
    """Silver flights and runs of today and of 30 days ago in a local Iceberg catalog (database `window`)."""
    spark = iceberg_session(str(tmp_path_factory.mktemp("warehouse")))
    create_tables(spark, "window")
    today, old = date.today().isoformat(), (date.today() - timedelta(days=30)).isoformat()
    silver = LAKE_TABLES["silver_flights"].columns
    flights = []
    for flight_id, day, aircraft, on_ground in (
        ("now-air", today, True, False),
        ("now-ground", today, True, True),
        ("now-balloon", today, False, False),
        ("old-air", old, True, False),
    ):
        row = dict.fromkeys(silver)
        row.update(flight_id=flight_id, is_aircraft=aircraft, on_ground=on_ground, latitude=48.9, longitude=2.4)
        flights.append({**row, "run_id": "r", **slot_values(day, "14")})
    append(spark, "window", "silver_flights", flights)
    runs = LAKE_TABLES["runs"].columns
    manifests = []
    for run_id, day, status in (
        ("now-ok", today, "succeeded"),
        ("now-bad", today, "failed"),
        ("old-ok", old, "succeeded"),
    ):
        row = dict.fromkeys(runs)
        row.update(run_id=run_id, run_slot=f"{day}T14", status=status, **slot_values(day, "14"))
        row["counts"] = {"raw": 9, "silver": 8, "quarantine": 1, "live_flights": 7, "gold": {}}
        row["quality"] = {"passed": status == "succeeded", "allow_degraded": False, "failed": [], "checks": []}
        manifests.append(row)
    append(spark, "window", "runs", manifests)
    return spark


def test_custom_sql_data_sets_keep_the_window_and_their_declared_columns(window_lake):
    for data_set in (DATA_SETS["live_flights"], DATA_SETS["runs_trend"]):
        sql = to_spark(bounded_sql(data_set.sql, "flight_kpis"), "window")
        described = window_lake.sql(sql).schema
        assert [(f.name, f.dataType.simpleString()) for f in described.fields] == list(data_set.columns)
    live = rows(window_lake, to_spark(bounded_sql(DATA_SETS["live_flights"].sql, "flight_kpis"), "window"))
    assert [r["flight_id"] for r in live] == ["now-air"]  # airborne aircraft of the window only
    runs = rows(window_lake, to_spark(bounded_sql(DATA_SETS["runs_trend"].sql, "flight_kpis"), "window"))
    assert [(r["run_id"], r["live_flights"], r["quality_passed"]) for r in runs] == [("now-ok", 7, True)]


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


def test_only_quicksight_acting_for_this_account_may_assume_its_role(templates) -> None:
    roles = of_type(templates[True], "AWS::IAM::Role")
    trusts = [
        statement
        for role in roles.values()
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if statement["Principal"].get("Service") == "quicksight.amazonaws.com"
    ]
    assert len(trusts) == 1
    # The test stack is synthesized for a named account (build()): the condition names that account.
    assert trusts[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
