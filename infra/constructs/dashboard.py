"""QuickSight over Athena: a data source, one data set per gold table plus live flights and runs, and the dashboard.

Everything the dashboard shows is declared in quicksight/: `datasets.json` lists the data sets (a catalog table, or
a SQL file), `dashboard.json` holds the dashboard definition with `{{dataset:<id>}}` where a data set ARN goes and
`{{title:<visual id>}}` where a visual's title goes (from etl/transform/kpi_catalog.py, which `etl show` and the report
read too). Column lists come from etl/publication/lake.py (the Iceberg tables' one definition), so the data sets cannot
drift from the tables. Every data set reads a bounded window of slots, the last WINDOW_DAYS days by `tech_day`, so no
dashboard load scans the whole lake (the lake's tables are partitioned by the slot: Athena reads only the window's
partitions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_s3 as s3
from constructs import Construct
from sqlglot import exp

from etl.publication.lake import LAKE_TABLES, LakeTable
from etl.transform.kpi_catalog import KPI_BY_TABLE, TITLES
from infra.constructs.catalog import ATHENA_RESULTS_PREFIX, DdlError
from infra.constructs.data_lake import WAREHOUSE_PREFIX

QUICKSIGHT_DIR = Path(__file__).resolve().parents[2] / "quicksight"
# The lake's Spark SQL column types as QuickSight input column types.
QUICKSIGHT_TYPES = {
    "string": "STRING",
    "int": "INTEGER",
    "bigint": "INTEGER",
    "double": "DECIMAL",
    "boolean": "BOOLEAN",
    "timestamp": "DATETIME",
}
READ_PREFIXES = (WAREHOUSE_PREFIX,)  # what the dashboard's data sets read from the data bucket: the Iceberg tables
# The window of slots every data set reads: its last WINDOW_DAYS days, by the `tech_day` partition column
# ('YYYY-MM-DD' strings, so comparing them as text compares the days). Custom SQL carries it as a WHERE clause that
# Athena prunes partitions with; a table data set as a filter step of its data preparation, which a direct query
# sends to Athena the same way. The `is_latest_slot` calculations (dashboard.json) work within a data set, so they
# see the window only.
WINDOW_DAYS = 7
WINDOW_COLUMN = "tech_day"
WINDOW_SQL = f"{WINDOW_COLUMN} >= date_format(current_date - interval '{WINDOW_DAYS}' day, '%Y-%m-%d')"
WINDOW_EXPRESSION = f"{{{WINDOW_COLUMN}}} >= formatDate(addDateTime(-{WINDOW_DAYS}, 'DD', now()), 'yyyy-MM-dd')"
# AWS's managed policy AWSQuicksightAthenaAccess grants these catalog reads besides the query actions
# (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSQuicksightAthenaAccess.html); here they are
# scoped to the account's Glue catalog as Athena names it (a `datacatalog` resource, Athena's service authorization
# reference) and to this database. athena:ListWorkGroups has no resource type.
ATHENA_CATALOG = "AwsDataCatalog"
ATHENA_CATALOG_ACTIONS = [
    "athena:GetDataCatalog",
    "athena:GetDatabase",
    "athena:GetTableMetadata",
    "athena:ListDatabases",
    "athena:ListTableMetadata",
]
GLUE_READ_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
]
DATA_SOURCE_ACTIONS = [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
]
DATA_SET_ACTIONS = [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
]
DASHBOARD_ACTIONS = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
]


@dataclass(frozen=True)
class DataSetSpec:
    """One QuickSight data set: a catalog table, or a SQL file over catalog tables, with its typed columns."""

    id: str
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Spark SQL type)
    table: str | None = None
    sql: str | None = None  # Athena SQL with unqualified table names
    geographic_roles: tuple[tuple[str, str], ...] = ()


def _type_name(data_type: exp.DataType) -> str:
    return data_type.sql("spark").lower()


def _select_columns(sql: str, tables: dict[str, LakeTable], source: str) -> tuple[tuple[str, str], ...]:
    """Name and type of each output column of a SELECT over one lake table (columns or struct fields)."""
    select = sqlglot.parse_one(sql, read="athena")
    (table,) = [t.name for t in select.find_all(exp.Table)]
    if table not in tables:
        raise DdlError(f"{source}: table {table} is not a lake table (etl/publication/lake.py)")
    types = tables[table].columns
    if WINDOW_COLUMN not in types:
        raise DdlError(f"{source}: table {table} has no {WINDOW_COLUMN} column to bound the data set by")
    columns = []
    for item in select.expressions:
        node = item.this if isinstance(item, exp.Alias) else item
        if not isinstance(node, exp.Column):
            raise DdlError(f"{source}: select only columns or struct fields, not {node.sql('athena')}")
        if node.table:  # struct.field
            struct = exp.DataType.build(types.get(node.table, "string"), dialect="spark")
            fields = {f.name: f.args["kind"] for f in struct.expressions} if struct.is_type("struct") else {}
            if node.name not in fields:
                raise DdlError(f"{source}: {node.table}.{node.name} is not a field of {table}")
            kind = _type_name(fields[node.name])
        elif node.name in types:
            kind = types[node.name]
        else:
            raise DdlError(f"{source}: column {node.name} is not in {table}")
        columns.append((item.alias_or_name, kind))
    return tuple(columns)


def _data_set_name(entry: dict[str, Any], table: str) -> str:
    """A gold table's data set is named by its KPI's question (etl/transform/kpi_catalog.py); any other names itself."""
    if "name" in entry:
        return str(entry["name"])
    if table not in KPI_BY_TABLE:
        raise DdlError(f"data set {entry['id']}: give it a name (only gold tables take their KPI's question)")
    return KPI_BY_TABLE[table].question


def load_data_set_specs(quicksight_dir: Path = QUICKSIGHT_DIR) -> list[DataSetSpec]:
    """The data sets of quicksight/datasets.json, with columns resolved against the lake's tables
    (etl/publication/lake.py)."""
    tables = LAKE_TABLES
    specs = []
    for entry in json.loads((quicksight_dir / "datasets.json").read_text(encoding="utf-8"))["datasets"]:
        roles = tuple(sorted(entry.get("geographic_roles", {}).items()))
        if "table" in entry:
            table = tables.get(entry["table"])
            if table is None:
                raise DdlError(
                    f"data set {entry['id']}: table {entry['table']} is not a lake table (etl/publication/lake.py)"
                )
            columns = tuple(table.columns.items())
            name = _data_set_name(entry, table.name)
            specs.append(DataSetSpec(entry["id"], name, columns, table=table.name, geographic_roles=roles))
        else:
            sql = (quicksight_dir / entry["sql"]).read_text(encoding="utf-8").strip()
            columns = _select_columns(sql, tables, entry["sql"])
            specs.append(DataSetSpec(entry["id"], entry["name"], columns, sql=sql, geographic_roles=roles))
    return specs


def load_dashboard(quicksight_dir: Path = QUICKSIGHT_DIR) -> dict[str, Any]:
    """quicksight/dashboard.json: the dashboard's name and its definition (data set ARNs still placeholders)."""
    return json.loads((quicksight_dir / "dashboard.json").read_text(encoding="utf-8"))


def qualify_tables(sql: str, database_name: str) -> str:
    """The SQL with every table name qualified by the Glue database (QuickSight custom SQL has no default one)."""
    tree = sqlglot.parse_one(sql, read="athena")
    for table in tree.find_all(exp.Table):
        table.set("db", exp.to_identifier(database_name))
    return tree.sql(dialect="athena")


def bounded_sql(sql: str, database_name: str) -> str:
    """A custom SQL data set as deployed: tables qualified by the database, rows limited to the window of slots."""
    tree = sqlglot.parse_one(qualify_tables(sql, database_name), read="athena")
    if not isinstance(tree, exp.Select):
        raise DdlError(f"custom SQL must be one SELECT: {sql[:80]}")
    return tree.where(WINDOW_SQL, dialect="athena").sql(dialect="athena")


# A whole JSON string `{{<kind>:<key>}}` in dashboard.json: a data set ARN (`dataset`) or a visual title (`title`).
PLACEHOLDER = re.compile(r"\{\{(\w+):([^{}]+)\}\}")
PLACEHOLDER_SOURCES = {"dataset": "data set", "title": "title"}
PLACEHOLDER_HOMES = {"dataset": "datasets.json", "title": "etl/transform/kpi_catalog.py TITLES"}


def fill_placeholders(value: Any, values: dict[str, dict[str, Any]]) -> Any:
    """Replace every `{{<kind>:<key>}}` in the definition with values[kind][key]; an unknown kind or key is an error."""
    if isinstance(value, dict):
        return {k: fill_placeholders(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, values) for v in value]
    match = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value
    kind, key = match.groups()
    if kind not in values:
        raise DdlError(f"dashboard.json has a placeholder of unknown kind {kind!r}: {value}")
    if key not in values[kind]:
        raise DdlError(
            f"dashboard.json refers to {PLACEHOLDER_SOURCES.get(kind, kind)} {key!r}, "
            f"which {PLACEHOLDER_HOMES.get(kind, 'nothing')} does not declare"
        )
    return values[kind][key]


def fill_data_set_arns(value: Any, arns: dict[str, str]) -> Any:
    """Replace every `{{dataset:<id>}}` in the definition with that data set's ARN; unknown ids are an error."""
    return fill_placeholders(value, {"dataset": arns})


def fill_definition(definition: Any, arns: dict[str, str]) -> Any:
    """The definition as deployed: data set ARNs filled in, and each visual's title from the KPI catalog."""
    return fill_placeholders(definition, {"dataset": arns, "title": TITLES})


class Dashboard(Construct):
    """QuickSight data source (Athena, through its own read-only role), data sets and the KPI dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        principal_arn: str,
        database_name: str,
        workgroup_name: str,
        data_bucket: s3.IBucket,
        results_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        account = Aws.ACCOUNT_ID
        prefix = database_name.replace("_", "-")
        self.role = self._athena_role(stack, database_name, workgroup_name, data_bucket, results_bucket)

        self.data_source = quicksight.CfnDataSource(
            self,
            "DataSource",
            aws_account_id=account,
            data_source_id=f"{prefix}-athena",
            name=f"{database_name} (Athena)",
            type="ATHENA",
            data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
                athena_parameters=quicksight.CfnDataSource.AthenaParametersProperty(
                    work_group=workgroup_name, role_arn=self.role.role_arn
                )
            ),
            ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
            permissions=[
                quicksight.CfnDataSource.ResourcePermissionProperty(
                    principal=principal_arn, actions=DATA_SOURCE_ACTIONS
                )
            ],
        )

        self.data_sets: dict[str, quicksight.CfnDataSet] = {}
        for spec in load_data_set_specs():
            self.data_sets[spec.id] = self._data_set(spec, account, prefix, database_name, principal_arn)

        board = load_dashboard()
        definition = fill_definition(board["definition"], {k: v.attr_arn for k, v in self.data_sets.items()})
        self.dashboard = quicksight.CfnDashboard(
            self,
            "Dashboard",
            aws_account_id=account,
            dashboard_id=f"{prefix}-kpis",
            name=board["name"],
            permissions=[
                quicksight.CfnDashboard.ResourcePermissionProperty(principal=principal_arn, actions=DASHBOARD_ACTIONS)
            ],
            dashboard_publish_options=quicksight.CfnDashboard.DashboardPublishOptionsProperty(
                ad_hoc_filtering_option=quicksight.CfnDashboard.AdHocFilteringOptionProperty(
                    availability_status="ENABLED"
                ),
                export_to_csv_option=quicksight.CfnDashboard.ExportToCSVOptionProperty(availability_status="ENABLED"),
            ),
        )
        # The definition is QuickSight's own JSON, kept as written in quicksight/dashboard.json. Every reference to
        # a data set ARN is a GetAtt, so CloudFormation creates the data sets (and their data source) first.
        self.dashboard.add_property_override("Definition", definition)

    def _data_set(
        self, spec: DataSetSpec, account: str, prefix: str, database_name: str, principal_arn: str
    ) -> quicksight.CfnDataSet:
        columns = [
            quicksight.CfnDataSet.InputColumnProperty(name=name, type=QUICKSIGHT_TYPES[kind])
            for name, kind in spec.columns
        ]
        if spec.table:
            physical = quicksight.CfnDataSet.PhysicalTableProperty(
                relational_table=quicksight.CfnDataSet.RelationalTableProperty(
                    data_source_arn=self.data_source.attr_arn,
                    catalog="AwsDataCatalog",
                    schema=database_name,
                    name=spec.table,
                    input_columns=columns,
                )
            )
        else:
            physical = quicksight.CfnDataSet.PhysicalTableProperty(
                custom_sql=quicksight.CfnDataSet.CustomSqlProperty(
                    data_source_arn=self.data_source.attr_arn,
                    name=spec.id,
                    sql_query=bounded_sql(spec.sql or "", database_name),
                    columns=columns,
                )
            )
        data_set = quicksight.CfnDataSet(
            self,
            f"DataSet{''.join(p.capitalize() for p in spec.id.split('_'))}",
            aws_account_id=account,
            data_set_id=f"{prefix}-{spec.id.replace('_', '-')}",
            name=spec.name,
            # Direct query: every view asks Athena, so the dashboard shows the latest run with no SPICE refresh.
            import_mode="DIRECT_QUERY",
            physical_table_map={"physical": physical},
            data_prep_configuration=_data_prep(spec),
            semantic_model_configuration=_semantic_model(spec),
            permissions=[
                quicksight.CfnDataSet.ResourcePermissionProperty(principal=principal_arn, actions=DATA_SET_ACTIONS)
            ],
        )
        return data_set

    def _athena_role(
        self,
        stack: Stack,
        database_name: str,
        workgroup_name: str,
        data_bucket: s3.IBucket,
        results_bucket: s3.IBucket,
    ) -> iam.Role:
        """What QuickSight may do through Athena: query the workgroup, read the catalog and data, write results."""
        partition, region, account = stack.partition, stack.region, stack.account
        role = iam.Role(
            self,
            "AthenaAccessRole",
            # Only QuickSight acting for this account may assume it (the confused-deputy guard of IAM's
            # "The confused deputy problem": aws:SourceAccount on the service principal).
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": account}}
            ),
            description="QuickSight's access to the flight KPIs through Athena (read data, write query results)",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="QueryWorkGroup",
                actions=[
                    "athena:BatchGetQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:GetQueryResultsStream",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetWorkGroup",
                ],
                resources=[f"arn:{partition}:athena:{region}:{account}:workgroup/{workgroup_name}"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadCatalogThroughAthena",
                actions=ATHENA_CATALOG_ACTIONS,
                resources=[f"arn:{partition}:athena:{region}:{account}:datacatalog/{ATHENA_CATALOG}"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="ListWorkGroups", actions=["athena:ListWorkGroups"], resources=["*"])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadCatalog",
                actions=GLUE_READ_ACTIONS,
                resources=[
                    f"arn:{partition}:glue:{region}:{account}:catalog",
                    f"arn:{partition}:glue:{region}:{account}:database/{database_name}",
                    f"arn:{partition}:glue:{region}:{account}:table/{database_name}/*",
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListData",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[data_bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadData",
                actions=["s3:GetObject"],
                resources=[data_bucket.arn_for_objects(f"{p}*") for p in READ_PREFIXES],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListResults",
                actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[results_bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteResults",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[results_bucket.arn_for_objects(f"{ATHENA_RESULTS_PREFIX}*")],
            )
        )
        return role


# The data preparation of a data set (DataPrepConfiguration, which replaces the deprecated LogicalTableMap:
# https://docs.aws.amazon.com/quicksight/latest/APIReference/API_DataPrepConfiguration.html): the physical table is
# imported, a table data set keeps the window of slots, and the result is the data set's one destination table.
SOURCE_ID, IMPORT_ID, WINDOW_ID, DESTINATION_ID = "source", "import", "window", "destination"


def _data_prep(spec: DataSetSpec) -> quicksight.CfnDataSet.DataPrepConfigurationProperty:
    ds = quicksight.CfnDataSet
    steps = {
        IMPORT_ID: ds.TransformStepProperty(
            import_table_step=ds.ImportTableOperationProperty(
                alias=spec.id[:64], source=ds.ImportTableOperationSourceProperty(source_table_id=SOURCE_ID)
            )
        )
    }
    last = IMPORT_ID
    if spec.table:  # custom SQL carries the window in its WHERE clause (bounded_sql)
        steps[WINDOW_ID] = ds.TransformStepProperty(
            filters_step=ds.FiltersOperationProperty(
                alias=f"last {WINDOW_DAYS} days",
                source=ds.TransformOperationSourceProperty(transform_operation_id=IMPORT_ID),
                filter_operations=[ds.FilterOperationProperty(condition_expression=WINDOW_EXPRESSION)],
            )
        )
        last = WINDOW_ID
    return ds.DataPrepConfigurationProperty(
        source_table_map={SOURCE_ID: ds.SourceTableProperty(physical_table_id="physical")},
        transform_step_map=steps,
        destination_table_map={
            DESTINATION_ID: ds.DestinationTableProperty(
                alias=spec.id[:64], source=ds.DestinationTableSourceProperty(transform_operation_id=last)
            )
        },
    )


def _semantic_model(spec: DataSetSpec) -> quicksight.CfnDataSet.SemanticModelConfigurationProperty | None:
    """The geographic roles of the map's coordinates, on the destination table (was a TagColumnOperation)."""
    if not spec.geographic_roles:
        return None
    ds = quicksight.CfnDataSet
    return ds.SemanticModelConfigurationProperty(
        table_map={
            "semantic": ds.SemanticTableProperty(
                alias=spec.id[:64],
                destination_table_id=DESTINATION_ID,
                semantic_metadata=ds.TableSemanticMetadataProperty(
                    column_metadata=[
                        ds.SharedColumnSemanticMetadataProperty(
                            column_names=[column],
                            column_properties=[
                                ds.ColumnSemanticPropertyProperty(
                                    semantic_type=ds.ColumnSemanticTypeProperty(geographical_role=role)
                                )
                            ],
                        )
                        for column, role in spec.geographic_roles
                    ]
                ),
            )
        }
    )
