"""The analytics catalog: Glue database and tables, Athena workgroup and named queries, all built from athena_ddl/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct
from sqlglot import exp

DDL_DIR = Path(__file__).resolve().parents[2] / "athena_ddl"
QUERIES_DIR = DDL_DIR / "queries"
BUCKET_PLACEHOLDER = "{{data_bucket}}"  # the only templated value in the DDL files; Athena's own are ${column}
ATHENA_RESULTS_PREFIX = "athena-results/"  # where the workgroup writes query results in the results bucket
MIN_BYTES_SCANNED_CUTOFF = 10_000_000  # Athena's documented minimum for BytesScannedCutoffPerQuery

_SCALAR_TYPES = {
    exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.VARCHAR: "string",
    exp.DataType.Type.INT: "int",
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.TIMESTAMP: "timestamp",
}
# What Hive's STORED AS shorthands mean in Glue terms.
_STORED_AS = {
    "PARQUET": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "TEXTFILE": (
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    ),
}


class DdlError(ValueError):
    """A DDL or query file the catalog cannot turn into Glue or Athena resources."""


@dataclass(frozen=True)
class TableSpec:
    """One external table as its DDL file declares it, with the data bucket still a placeholder."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, hive type), in file order
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    input_format: str
    output_format: str
    serde: str
    serde_parameters: dict[str, str]
    parameters: dict[str, str]  # TBLPROPERTIES


@dataclass(frozen=True)
class NamedQuerySpec:
    """One saved Athena query: its file stem as name, its first comment line as description."""

    name: str
    description: str
    sql: str


def hive_type(data_type: exp.DataType) -> str:
    """The Glue/Hive spelling of a column type: `bigint`, `map<string,double>`, `struct<a:int>`."""
    kind = data_type.this
    if kind in _SCALAR_TYPES:
        return _SCALAR_TYPES[kind]
    if kind == exp.DataType.Type.STRUCT:
        fields = [f"{f.name}:{hive_type(f.args['kind'])}" for f in data_type.expressions]
        return f"struct<{','.join(fields)}>"
    if kind == exp.DataType.Type.MAP:
        key, value = data_type.expressions
        return f"map<{hive_type(key)},{hive_type(value)}>"
    if kind == exp.DataType.Type.ARRAY:
        return f"array<{hive_type(data_type.expressions[0])}>"
    raise DdlError(f"column type {data_type.sql('hive')} is not one the catalog maps (string, int, bigint, ...)")


def _first_comment(text: str, path: Path) -> str:
    match = re.match(r"\s*--\s*(.+)", text)
    if not match:
        raise DdlError(f"{path.name}: the file must start with a '-- description' comment line")
    return match.group(1).strip()


def _columns(schema: exp.Schema) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, hive_type(c.args["kind"])) for c in schema.expressions)


def parse_table_ddl(text: str, path: Path = Path("<ddl>")) -> TableSpec:
    """Turn one CREATE EXTERNAL TABLE statement (Athena/Hive DDL) into a TableSpec."""
    statements = sqlglot.parse(text, read="athena")
    if len(statements) != 1 or not isinstance(statements[0], exp.Create) or statements[0].kind != "TABLE":
        raise DdlError(f"{path.name}: expected exactly one CREATE EXTERNAL TABLE statement")
    create = statements[0]
    schema = create.this
    props = create.args["properties"].expressions
    partition_keys: tuple[tuple[str, str], ...] = ()
    location = serde = input_format = output_format = ""
    serde_parameters: dict[str, str] = {}
    parameters: dict[str, str] = {}
    external = False
    for prop in props:
        if isinstance(prop, exp.ExternalProperty):
            external = True
        elif isinstance(prop, exp.PartitionedByProperty):
            partition_keys = _columns(prop.this)
        elif isinstance(prop, exp.LocationProperty):
            location = prop.this.name
        elif isinstance(prop, exp.RowFormatSerdeProperty):
            serde = prop.this.name
            extra = prop.args.get("serde_properties")
            serde_parameters = {p.this.name: p.args["value"].name for p in extra.expressions} if extra else {}
        elif isinstance(prop, exp.FileFormatProperty):
            fmt = prop.this
            if isinstance(fmt, exp.InputOutputFormat):
                input_format, output_format = fmt.args["input_format"].name, fmt.args["output_format"].name
            else:
                stored = _STORED_AS.get(fmt.name.upper())
                if not stored:
                    raise DdlError(f"{path.name}: STORED AS {fmt.name} is not supported (PARQUET, TEXTFILE)")
                input_format, output_format = stored[0], stored[1]
                serde = serde or stored[2]
        elif isinstance(prop, exp.Property):
            parameters[prop.this.name] = prop.args["value"].name
    if not external or not location:
        raise DdlError(f"{path.name}: the table must be EXTERNAL with a LOCATION")
    return TableSpec(
        name=schema.this.name,
        description=_first_comment(text, path),
        columns=_columns(schema),
        partition_keys=partition_keys,
        location=location,
        input_format=input_format,
        output_format=output_format,
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
    """Glue database and tables, an enforced and encrypted Athena workgroup, and the saved queries."""

    # Glue tables (not Athena DDL run by a custom resource): CloudFormation creates, diffs and deletes them natively,
    # with no Lambda and no query to wait on. The DDL files stay the one source: sqlglot parses them at synth time.
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
        for spec in load_table_specs():
            table = glue.CfnTable(
                self,
                f"Table{_pascal(spec.name)}",
                catalog_id=account,
                database_name=database_name,
                table_input=self._table_input(spec, data_bucket.bucket_name),
            )
            table.node.add_dependency(database)
            self.tables[spec.name] = table

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

    @staticmethod
    def _table_input(spec: TableSpec, bucket_name: str) -> glue.CfnTable.TableInputProperty:
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
                input_format=spec.input_format,
                output_format=spec.output_format,
                serde_info=glue.CfnTable.SerdeInfoProperty(
                    serialization_library=spec.serde, parameters=spec.serde_parameters or None
                ),
            ),
        )
