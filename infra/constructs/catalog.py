"""The analytics catalog: the Glue database, the lake's Iceberg tables and the raw CSV table, the Iceberg tables'
Glue optimizers, the Athena workgroup and the named queries.

The Iceberg tables (silver, quarantine, gold, runs) are defined once, in `etl/publication/lake.py` (LAKE_TABLES); this
construct turns each into a Glue Iceberg table (schema, identity partition spec on the slot, location in the warehouse),
so Athena and QuickSight resolve every table after `cdk deploy`, before any run. Only what is not an Iceberg table is
read from athena_ddl/: the database, the raw CSV table (files, one per run) and the named queries.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct
from sqlglot import exp

from etl.core.columns import PARTITION_COLUMNS
from etl.publication.lake import (
    LAKE_TABLES,
    ORPHAN_FILE_RETENTION_DAYS,
    SNAPSHOT_RETENTION_DAYS,
    SNAPSHOTS_TO_RETAIN,
    LakeTable,
)
from infra.constructs.data_lake import WAREHOUSE_PREFIX  # the Iceberg warehouse: `s3://<data bucket>/warehouse`

DDL_DIR = Path(__file__).resolve().parents[2] / "athena_ddl"
QUERIES_DIR = DDL_DIR / "queries"
BUCKET_PLACEHOLDER = "{{data_bucket}}"  # the only templated value in the DDL files; Athena's own are ${column}
ATHENA_RESULTS_PREFIX = "athena-results/"  # where the workgroup writes query results in the results bucket
MIN_BYTES_SCANNED_CUTOFF = 10_000_000  # Athena's documented minimum for BytesScannedCutoffPerQuery

ICEBERG_FORMAT_VERSION = "2"
FIRST_PARTITION_FIELD_ID = 1000  # Iceberg numbers partition fields from 1000 (its spec's PARTITION_DATA_ID_START)
# Spark SQL types (etl/publication/lake.py) as Iceberg primitive types; Spark's TIMESTAMP is Iceberg's timestamptz.
_ICEBERG_PRIMITIVES = {
    exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.VARCHAR: "string",
    exp.DataType.Type.INT: "int",
    exp.DataType.Type.BIGINT: "long",
    exp.DataType.Type.FLOAT: "float",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
    exp.DataType.Type.TIMESTAMP: "timestamp",
}

# Table maintenance by Glue's table optimizers ("Optimizing Iceberg tables",
# https://docs.aws.amazon.com/glue/latest/dg/table-optimizers.html): the 3-day purge of the lake, on Iceberg.
# - compaction: binpack, Glue's default, merges each slot's small files.
# - retention: snapshots older than 3 days expire and their unreferenced files are deleted, but every table keeps at
#   least its newest snapshot (the live answer of every slot is in it); time travel reaches back 3 days.
# - orphan_file_deletion: files no snapshot references (a run killed between writing and committing) go after 3 days,
#   longer than any run, so a running commit's files are never taken.
OPTIMIZER_TYPES = ("compaction", "retention", "orphan_file_deletion")
# Where the optimizers write their logs (CloudWatch Logs), as the Glue prerequisites page names them.
OPTIMIZER_LOG_GROUPS = (
    "/aws-glue/iceberg-compaction/logs",
    "/aws-glue/iceberg-retention/logs",
    "/aws-glue/iceberg-orphan-file-deletion/logs",
)


class DdlError(ValueError):
    """A DDL or query file, or a table definition, the catalog cannot turn into Glue or Athena resources."""


@dataclass(frozen=True)
class TableSpec:
    """The raw CSV table as its DDL file declares it, with the data bucket still a placeholder."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, hive type), in file order
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    serde: str
    serde_parameters: dict[str, str]
    parameters: dict[str, str]  # TBLPROPERTIES


@dataclass(frozen=True)
class NamedQuerySpec:
    """One saved Athena query: its file stem as name, its first comment line as description."""

    name: str
    description: str
    sql: str


# --- Iceberg tables, from etl/publication/lake.py ---------------------------------------------------------------------
# ---------------------------------------------------------------------------


def iceberg_type(data_type: exp.DataType, ids: Iterator[int]) -> str | dict[str, Any]:
    """A Spark SQL type as Iceberg's JSON type; nested fields take their ids from `ids`, level by level."""
    kind = data_type.this
    if kind in _ICEBERG_PRIMITIVES:
        return _ICEBERG_PRIMITIVES[kind]
    if kind == exp.DataType.Type.STRUCT:
        members = [(f.name, f.args["kind"], next(ids)) for f in data_type.expressions]
        return {
            "type": "struct",
            "fields": [
                {"id": i, "name": name, "required": False, "type": iceberg_type(sub, ids)} for name, sub, i in members
            ],
        }
    if kind == exp.DataType.Type.MAP:
        key, value = data_type.expressions
        key_id, value_id = next(ids), next(ids)
        return {
            "type": "map",
            "key-id": key_id,
            "key": iceberg_type(key, ids),
            "value-id": value_id,
            "value": iceberg_type(value, ids),
            "value-required": False,
        }
    if kind == exp.DataType.Type.ARRAY:
        element_id = next(ids)
        element = iceberg_type(data_type.expressions[0], ids)
        return {"type": "list", "element-id": element_id, "element": element, "element-required": False}
    raise DdlError(f"column type {data_type.sql('spark')} has no Iceberg type here (string, int, bigint, ...)")


def iceberg_schema(table: LakeTable) -> list[dict[str, Any]]:
    """The table's Iceberg schema fields (id, name, type, required), numbered as Iceberg numbers a new table.

    Top-level columns take ids 1..n in order; nested fields follow, each struct's fields before what they contain
    (Iceberg's TypeUtil.assignFreshIds), so Glue and a Spark-created table agree on every id.
    """
    names = list(table.columns)
    ids = itertools.count(len(names) + 1)
    fields = []
    for field_id, name in enumerate(names, start=1):
        fields.append(
            {
                "id": field_id,
                "name": name,
                "required": False,
                "type": iceberg_type(exp.DataType.build(table.columns[name], dialect="spark"), ids),
            }
        )
    return fields


def iceberg_partition_spec(table: LakeTable) -> list[dict[str, Any]]:
    """Identity on each slot column, in order: the spec the job writes with."""
    source_ids = {name: i for i, name in enumerate(table.columns, start=1)}
    missing = [c for c in PARTITION_COLUMNS if c not in source_ids]
    if missing:
        raise DdlError(f"table {table.name} lacks the partition columns {missing}")
    return [
        {"name": c, "source-id": source_ids[c], "transform": "identity", "field-id": FIRST_PARTITION_FIELD_ID + i}
        for i, c in enumerate(PARTITION_COLUMNS)
    ]


def table_location(bucket_name: str, database_name: str, table: str) -> str:
    """Where an Iceberg table lives: Iceberg's GlueCatalog default, `<warehouse>/<database>.db/<table>`."""
    return f"s3://{bucket_name}/{WAREHOUSE_PREFIX}{database_name}.db/{table}"


def _glue_field_type(value: str | dict[str, Any]) -> str:
    # CloudFormation types IcebergStructField.Type as a string: primitives by name, nested types as Iceberg's JSON.
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def iceberg_table_input(table: LakeTable, location: str) -> glue.CfnTable.OpenTableFormatInputProperty:
    """The Glue OpenTableFormatInput of one lake table: an Iceberg v2 table, its schema, partition spec and place."""
    schema = glue.CfnTable.IcebergSchemaProperty(
        type="struct",
        schema_id=0,
        fields=[
            glue.CfnTable.IcebergStructFieldProperty(
                id=f["id"], name=f["name"], required=f["required"], type=_glue_field_type(f["type"])
            )
            for f in iceberg_schema(table)
        ],
    )
    spec = glue.CfnTable.IcebergPartitionSpecProperty(
        spec_id=0,
        fields=[
            glue.CfnTable.IcebergPartitionFieldProperty(
                name=p["name"], source_id=p["source-id"], transform=p["transform"], field_id=p["field-id"]
            )
            for p in iceberg_partition_spec(table)
        ],
    )
    return glue.CfnTable.OpenTableFormatInputProperty(
        iceberg_input=glue.CfnTable.IcebergInputProperty(
            metadata_operation="CREATE",
            version=ICEBERG_FORMAT_VERSION,
            iceberg_table_input=glue.CfnTable.IcebergTableInputProperty(
                location=location,
                schema=schema,
                partition_spec=spec,
                properties={"write.format.default": "parquet"},
            ),
        )
    )


# --- The raw table, the database and the named queries, from athena_ddl/ ----------------------------------------

_TEXTFILE = (
    "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
)


def _first_comment(text: str, path: Path) -> str:
    match = re.match(r"\s*--\s*(.+)", text)
    if not match:
        raise DdlError(f"{path.name}: the file must start with a '-- description' comment line")
    return match.group(1).strip()


def _string_columns(schema: exp.Schema, path: Path) -> tuple[tuple[str, str], ...]:
    columns = []
    for column in schema.expressions:
        kind = column.args["kind"]
        if kind.this not in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR):
            raise DdlError(f"{path.name}: column {column.name} must be string (raw rows are text)")
        columns.append((column.name, "string"))
    return tuple(columns)


def parse_table_ddl(text: str, path: Path = Path("<ddl>")) -> TableSpec:
    """Turn the raw table's CREATE EXTERNAL TABLE (text columns, a SerDe, STORED AS TEXTFILE) into a TableSpec."""
    statements = sqlglot.parse(text, read="athena")
    if len(statements) != 1 or not isinstance(statements[0], exp.Create) or statements[0].kind != "TABLE":
        raise DdlError(f"{path.name}: expected exactly one CREATE EXTERNAL TABLE statement")
    create = statements[0]
    partition_keys: tuple[tuple[str, str], ...] = ()
    location = serde = ""
    serde_parameters: dict[str, str] = {}
    parameters: dict[str, str] = {}
    external = textfile = False
    for prop in create.args["properties"].expressions:
        if isinstance(prop, exp.ExternalProperty):
            external = True
        elif isinstance(prop, exp.PartitionedByProperty):
            partition_keys = _string_columns(prop.this, path)
        elif isinstance(prop, exp.LocationProperty):
            location = prop.this.name
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            serde = prop.this.name
            extra = prop.args.get("serde_properties")
            serde_parameters = {p.this.name: p.args["value"].name for p in extra.expressions} if extra else {}
        elif isinstance(prop, exp.FileFormatProperty):
            textfile = prop.this.name.upper() == "TEXTFILE"
        elif isinstance(prop, exp.Property):
            parameters[prop.this.name] = prop.args["value"].name
    if not external or not location:
        raise DdlError(f"{path.name}: the table must be EXTERNAL with a LOCATION")
    if not textfile or not serde:
        raise DdlError(f"{path.name}: only text files read by a SerDe are declared here (STORED AS TEXTFILE)")
    return TableSpec(
        name=create.this.this.name,
        description=_first_comment(text, path),
        columns=_string_columns(create.this, path),
        partition_keys=partition_keys,
        location=location,
        serde=serde,
        serde_parameters=serde_parameters,
        parameters=parameters,
    )


def load_table_specs(ddl_dir: Path = DDL_DIR) -> list[TableSpec]:
    """Every table declared in ddl_dir/NN_create_*.sql, in file order (the database file is skipped)."""
    specs = []
    for path in sorted(ddl_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        statement = sqlglot.parse_one(text, read="athena")
        if isinstance(statement, exp.Create) and statement.kind == "DATABASE":
            continue
        specs.append(parse_table_ddl(text, path))
    clash = {s.name for s in specs} & set(LAKE_TABLES)
    if clash:
        raise DdlError(f"{sorted(clash)} are Iceberg tables defined in etl/publication/lake.py: remove their DDL files")
    return specs


def load_database_description(ddl_dir: Path = DDL_DIR) -> str:
    """The COMMENT of the CREATE DATABASE file."""
    for path in sorted(ddl_dir.glob("*.sql")):
        create = sqlglot.parse_one(path.read_text(encoding="utf-8"), read="athena")
        if isinstance(create, exp.Create) and create.kind == "DATABASE":
            comment = create.find(exp.SchemaCommentProperty)
            return comment.this.name if comment else _first_comment(path.read_text(encoding="utf-8"), path)
    raise DdlError(f"no CREATE DATABASE statement in {ddl_dir}")


def load_named_queries(queries_dir: Path = QUERIES_DIR) -> list[NamedQuerySpec]:
    """Every saved query in queries_dir/*.sql; each file must parse as one Athena SELECT."""
    specs = []
    for path in sorted(queries_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        statements = sqlglot.parse(text, read="athena")
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            raise DdlError(f"{path.name}: expected exactly one SELECT statement")
        specs.append(NamedQuerySpec(name=path.stem, description=_first_comment(text, path), sql=text.strip()))
    return specs


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class Catalog(Construct):
    """Glue database, Iceberg and raw tables, table optimizers, an enforced and encrypted workgroup, saved queries."""

    # Glue tables (not Athena DDL run by a custom resource): CloudFormation creates, diffs and deletes them natively,
    # with no Lambda and no query to wait on.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_bucket: s3.IBucket,
        results_bucket: s3.IBucket,
        database_name: str,
        bytes_scanned_cutoff_bytes: int,
    ) -> None:
        super().__init__(scope, construct_id)
        if not re.fullmatch(r"[a-z0-9_]{1,255}", database_name):
            raise DdlError(f"database name {database_name!r} must be lower-case letters, digits and underscores")
        if bytes_scanned_cutoff_bytes < MIN_BYTES_SCANNED_CUTOFF:
            raise DdlError(
                f"bytes_scanned_cutoff_bytes {bytes_scanned_cutoff_bytes} is below Athena's minimum "
                f"of {MIN_BYTES_SCANNED_CUTOFF}"
            )
        self.database_name = database_name
        self.workgroup_name = f"{database_name.replace('_', '-')}-analytics"
        account = Stack.of(self).account

        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description=load_database_description()
            ),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        # Iceberg tables: Name and OpenTableFormatInput only, no TableInput. Glue then writes the table's first
        # metadata file and sets table_type=ICEBERG itself (CloudFormation AWS::Glue::Table IcebergTableInput,
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-glue-table-icebergtableinput.html).
        for table in LAKE_TABLES.values():
            cfn = glue.CfnTable(
                self,
                f"Table{_pascal(table.name)}",
                catalog_id=account,
                database_name=database_name,
                name=table.name,
                open_table_format_input=iceberg_table_input(
                    table, table_location(data_bucket.bucket_name, database_name, table.name)
                ),
            )
            cfn.node.add_dependency(database)
            self.tables[table.name] = cfn
        for spec in load_table_specs():
            cfn = glue.CfnTable(
                self,
                f"Table{_pascal(spec.name)}",
                catalog_id=account,
                database_name=database_name,
                table_input=self._hive_table_input(spec, data_bucket.bucket_name),
            )
            cfn.node.add_dependency(database)
            self.tables[spec.name] = cfn

        self.optimizer_role = self._optimizer_role(data_bucket, database_name)
        role_policy = self.optimizer_role.node.find_child("DefaultPolicy")
        self.optimizers: dict[tuple[str, str], glue.CfnTableOptimizer] = {}
        for table in LAKE_TABLES.values():
            for kind in OPTIMIZER_TYPES:
                optimizer = glue.CfnTableOptimizer(
                    self,
                    f"Optimizer{_pascal(table.name)}{_pascal(kind)}",
                    catalog_id=account,
                    database_name=database_name,
                    table_name=table.name,
                    type=kind,
                    table_optimizer_configuration=self._optimizer_configuration(kind),
                )
                # The table is named, not referenced, and the role's policy must be attached before Glue assumes it.
                optimizer.add_resource_dependency(self.tables[table.name])
                optimizer.node.add_dependency(role_policy)
                self.optimizers[(table.name, kind)] = optimizer

        workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description=f"Queries over {database_name}: enforced settings, encrypted results, bounded scans",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_bytes,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{results_bucket.bucket_name}/{ATHENA_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
        self.workgroup = workgroup
        for query in load_named_queries():
            named = athena.CfnNamedQuery(
                self,
                f"Query{_pascal(query.name)}",
                name=query.name,
                description=query.description[:1024],
                database=database_name,
                query_string=query.sql,
                work_group=workgroup.ref,
            )
            named.node.add_dependency(database)

    def _optimizer_role(self, data_bucket: s3.IBucket, database_name: str) -> iam.Role:
        """The role Glue's optimizers assume: the warehouse's objects, this database's tables, their own logs.

        As the Glue prerequisites page lists (https://docs.aws.amazon.com/glue/latest/dg/optimization-prerequisites.html):
        S3 read, write and delete on the table locations, glue:GetTable and glue:UpdateTable, CloudWatch Logs.
        """
        stack = Stack.of(self)
        partition, region, account = stack.partition, stack.region, stack.account
        role = iam.Role(
            self,
            "OptimizerRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue table optimizers (compaction, snapshot retention, orphan files) of the lake's tables",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListWarehouse",
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{WAREHOUSE_PREFIX}*"]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="RewriteWarehouse",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[data_bucket.arn_for_objects(f"{WAREHOUSE_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UpdateTables",
                actions=["glue:GetTable", "glue:UpdateTable"],
                resources=[
                    f"arn:{partition}:glue:{region}:{account}:catalog",
                    f"arn:{partition}:glue:{region}:{account}:database/{database_name}",
                    f"arn:{partition}:glue:{region}:{account}:table/{database_name}/*",
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOptimizerLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"arn:{partition}:logs:{region}:{account}:log-group:{g}:*" for g in OPTIMIZER_LOG_GROUPS],
            )
        )
        return role

    def _optimizer_configuration(self, kind: str) -> glue.CfnTableOptimizer.TableOptimizerConfigurationProperty:
        opt = glue.CfnTableOptimizer
        settings: dict[str, Any] = {}
        if kind == "compaction":
            settings["compaction_configuration"] = opt.CompactionConfigurationProperty(
                iceberg_configuration=opt.IcebergCompactionConfigurationProperty(strategy="binpack")
            )
        elif kind == "retention":
            settings["retention_configuration"] = opt.RetentionConfigurationProperty(
                iceberg_configuration=opt.IcebergRetentionConfigurationProperty(
                    snapshot_retention_period_in_days=SNAPSHOT_RETENTION_DAYS,
                    number_of_snapshots_to_retain=SNAPSHOTS_TO_RETAIN,
                    clean_expired_files=True,
                )
            )
        else:
            settings["orphan_file_deletion_configuration"] = opt.OrphanFileDeletionConfigurationProperty(
                iceberg_configuration=opt.IcebergConfigurationProperty(
                    orphan_file_retention_period_in_days=ORPHAN_FILE_RETENTION_DAYS
                )
            )
        return opt.TableOptimizerConfigurationProperty(enabled=True, role_arn=self.optimizer_role.role_arn, **settings)

    @staticmethod
    def _hive_table_input(spec: TableSpec, bucket_name: str) -> glue.CfnTable.TableInputProperty:
        def fill(value: str) -> str:
            return value.replace(BUCKET_PLACEHOLDER, bucket_name)

        return glue.CfnTable.TableInputProperty(
            name=spec.name,
            description=spec.description,
            table_type="EXTERNAL_TABLE",
            parameters={"EXTERNAL": "TRUE", **{k: fill(v) for k, v in spec.parameters.items()}},
            partition_keys=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in spec.partition_keys],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in spec.columns],
                location=fill(spec.location),
                input_format=_TEXTFILE[0],
                output_format=_TEXTFILE[1],
                serde_info=glue.CfnTable.SerdeInfoProperty(
                    serialization_library=spec.serde, parameters=spec.serde_parameters or None
                ),
            ),
        )
