"""The one stack: composes the constructs, builds the code artefacts, and makes every grant."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from etl.core.source_registry import Token, source
from etl.publication.lake import LAKE_TABLES
from infra.config import PipelineConfig
from infra.constructs.alarms import Alarms, topic_name
from infra.constructs.catalog import Catalog
from infra.constructs.code_delivery import CodeDelivery
from infra.constructs.dashboard import Dashboard
from infra.constructs.data_lake import DATA_PREFIXES, EMR_LOG_PREFIX, DataLake
from infra.constructs.emr_profile import EMR_MANAGED_TAG, EmrProfile
from infra.constructs.source_token import SourceToken
from infra.constructs.trigger import Trigger
from infra.dependencies import CLUSTER_LOCK, WHEELHOUSE, check_wheelhouse
from infra.nag import acknowledge_findings
from infra.packaging import REPO_ROOT, stage_lambda_package, write_package_zip
from lambda_trigger.config import environment_for

# Named rather than wildcarded (kms:GenerateDataKey*, kms:ReEncrypt*), so the policy says exactly what it allows.
DISK_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
# What Iceberg's GlueCatalog calls for the job: load a table (GetTable), commit a snapshot (UpdateTable, with Glue's
# optimistic version check), create a table the catalog lacks (GetDatabase for its location, CreateTable). The job
# never lists (GetTables) nor drops (DeleteTable) a table. (Apache Iceberg, "AWS Integrations": Glue Catalog;
# iceberg-aws GlueTableOperations.)
ICEBERG_GLUE_ACTIONS = ("glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable")


class FlightKpisStack(Stack):
    """Schedule -> Lambda -> transient EMR -> S3 data lake -> Glue/Athena (-> QuickSight), loud on failure."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        build_dir: Path,
        cluster_lock: Path = CLUSTER_LOCK,
        wheels_dir: Path = WHEELHOUSE,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", config.project)

        lake = DataLake(self, "DataLake", raw_retention_days=config.raw_retention_days)
        self.data_lake = lake
        code = CodeDelivery(self, "Code", **_build_artefacts(config, build_dir, cluster_lock, wheels_dir))
        self.code = code
        profile = EmrProfile(
            self,
            "EmrProfile",
            project=config.project,
            logs_bucket=lake.logs_bucket,
            vpc_id=config.vpc_id,
            subnet_ids=config.subnet_ids,
        )
        self.emr_profile = profile
        self._grant_cluster(config, lake, code, profile)
        # A source whose API needs a token (the official API's): the token lives in a secret of its own.
        self.source_tokens: dict[str, SourceToken] = {}
        for name, secret_name in config.token_secrets.items():
            # Its construct id (Fr24ApiToken for fr24api) fixes the secret's logical id: another would replace it.
            token = SourceToken(self, f"{name.title()}Token", secret_name=secret_name, issuer=_token_of(name).issuer)
            self.source_tokens[name] = token
            self._grant_source_token(name, token, profile)

        trigger = Trigger(
            self,
            "Trigger",
            schedule=config.schedule,
            code_dir=stage_lambda_package(REPO_ROOT / "lambda_trigger", build_dir / "lambda"),
            environment=_trigger_environment(config, lake, code, profile),
            log_retention_days=config.log_retention_days,
        )
        self.trigger = trigger
        self._grant_trigger(trigger, profile)

        self.alarms = Alarms(
            self,
            "Alarms",
            project=config.project,
            alarm_email=config.alarm_email,
            metrics_namespace=config.metrics_namespace,
            function=trigger.function,
            dead_letter_queue=trigger.dead_letter_queue,
            coverage_floors=config.quality_settings().floors(),  # the same floors as the job config's quality gate
        )
        # The job tells the topic why a run failed or was degraded (etl/publication/metrics.py): publish, and the
        # topic's key. Written out rather than topic.grant_publish, which also grants the key's
        # `kms:GenerateDataKey*` wildcard.
        profile.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishRunAlerts", actions=["sns:Publish"], resources=[self.alarms.topic.topic_arn]
            )
        )
        self.alarms.key.grant(profile.instance_role, "kms:Decrypt", "kms:GenerateDataKey")

        self.catalog = Catalog(
            self,
            "Catalog",
            data_bucket=lake.data_bucket,
            results_bucket=lake.results_bucket,
            database_name=config.database_name,
            bytes_scanned_cutoff_bytes=config.athena_bytes_scanned_cutoff,
        )
        self.dashboard: Dashboard | None = None
        if config.quicksight_principal_arn:
            self.dashboard = Dashboard(
                self,
                "Dashboard",
                principal_arn=config.quicksight_principal_arn,
                database_name=self.catalog.database_name,
                workgroup_name=self.catalog.workgroup_name,
                data_bucket=lake.data_bucket,
                results_bucket=lake.results_bucket,
            )

        outputs = {
            "DataBucket": lake.data_bucket.bucket_name,
            "AthenaResultsBucket": lake.results_bucket.bucket_name,
            "LogsBucket": lake.logs_bucket.bucket_name,
            "TriggerFunction": trigger.function.function_name,
            "AlarmTopic": self.alarms.topic.topic_arn,
            "AthenaWorkGroup": self.catalog.workgroup_name,
            "GlueDatabase": self.catalog.database_name,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
        acknowledge_findings(self)

    def _grant_cluster(self, config: PipelineConfig, lake: DataLake, code: CodeDelivery, profile: EmrProfile) -> None:
        """The nodes read the code and config, write the data prefixes and the EMR log prefix, and nothing else."""
        role = profile.instance_role
        data = lake.data_bucket
        role.add_to_policy(iam.PolicyStatement(sid="ReadCode", actions=["s3:GetObject"], resources=code.object_arns))
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListDataPrefixes",
                actions=["s3:ListBucket"],
                resources=[data.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in DATA_PREFIXES]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadWriteDataPrefixes",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[data.arn_for_objects(f"{p}*") for p in DATA_PREFIXES],
            )
        )
        glue = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="IcebergGlueCatalog",
                actions=list(ICEBERG_GLUE_ACTIONS),
                resources=[
                    f"{glue}:catalog",
                    f"{glue}:database/{config.database_name}",
                    *(f"{glue}:table/{config.database_name}/{table}" for table in LAKE_TABLES),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="BucketLocation",
                actions=["s3:GetBucketLocation"],
                resources=[data.bucket_arn, lake.logs_bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteEmrLogs",
                actions=["s3:PutObject"],
                resources=[lake.logs_bucket.arn_for_objects(f"{EMR_LOG_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadEmrArtifacts",  # EMR's own regional buckets: node set-up scripts and libraries
                actions=["s3:GetObject"],
                resources=[
                    f"arn:{Aws.PARTITION}:s3:::{Aws.REGION}.elasticmapreduce/*",
                    f"arn:{Aws.PARTITION}:s3:::repo.{Aws.REGION}.emr.amazonaws.com/*",
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishSuccessMetric",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource type; the namespace condition scopes it
                conditions={"StringEquals": {"cloudwatch:namespace": config.metrics_namespace}},
            )
        )
        # Local disk encryption: the nodes make and open their own data keys.
        profile.disk_key.grant(role, *DISK_KEY_ACTIONS)
        # EBS encryption: EMR creates grants on the key for the volumes it attaches.
        profile.disk_key.grant(
            profile.service_role, *DISK_KEY_ACTIONS, "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"
        )

    def _grant_source_token(self, name: str, token: SourceToken, profile: EmrProfile) -> None:
        """Only the cluster's role reads the API token: its own grant, and a resource policy denying everyone else."""
        profile.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid=f"Read{name.title()}Token", actions=["secretsmanager:GetSecretValue"], resources=[token.secret_arn]
            )
        )
        token.allow_reads_only_by(profile.instance_role)

    def _grant_trigger(self, trigger: Trigger, profile: EmrProfile) -> None:
        """The trigger may start clusters, read the project's clusters, and pass exactly the two EMR roles."""
        function = trigger.function
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="StartTaggedClusters",
                # RunJobFlow has no resource-level scoping; only requests carrying the tag AmazonEMRServicePolicy_v2
                # needs (as AmazonEMRFullAccessPolicy_v2 does).
                actions=["elasticmapreduce:RunJobFlow"],
                resources=["*"],
                conditions={"StringEquals": {f"aws:RequestTag/{EMR_MANAGED_TAG[0]}": EMR_MANAGED_TAG[1]}},
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindClusters",
                # ListClusters has no resource-level scoping; DescribeCluster and AddTags on the cluster ARN pattern
                # of this account and region.
                actions=["elasticmapreduce:ListClusters"],
                resources=["*"],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="ReadAndTagClusters",
                actions=["elasticmapreduce:DescribeCluster", "elasticmapreduce:AddTags"],
                resources=[f"arn:{Aws.PARTITION}:elasticmapreduce:{Aws.REGION}:{Aws.ACCOUNT_ID}:cluster/*"],
            )
        )
        # Each role only to the service that takes it (EMR Management Guide, "Using cluster and EMR Notebooks tags
        # with IAM policies for access control": PassRoleForEMR, PassRoleForEC2).
        for sid, role, service in (
            ("PassEmrServiceRole", profile.service_role, "elasticmapreduce.amazonaws.com*"),
            ("PassEmrInstanceRole", profile.instance_role, "ec2.amazonaws.com*"),
        ):
            function.add_to_role_policy(
                iam.PolicyStatement(
                    sid=sid,
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringLike": {"iam:PassedToService": service}},
                )
            )
        # EMR creates its clean-up service-linked role on the first cluster if the caller may (EMR Management
        # Guide, "Using service-linked roles for Amazon EMR for cleanup"); that role only, for EMR only.
        function.add_to_role_policy(
            iam.PolicyStatement(
                sid="CreateEmrCleanupRole",
                actions=["iam:CreateServiceLinkedRole"],
                resources=[
                    f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/elasticmapreduce.amazonaws.com"
                    "/AWSServiceRoleForEMRCleanup"
                ],
                conditions={"StringEquals": {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com"}},
            )
        )


def _build_artefacts(config: PipelineConfig, build_dir: Path, cluster_lock: Path, wheels_dir: Path) -> dict[str, Path]:
    """Write etl.zip and the job config into build_dir; return every file to upload, the cluster's wheels included."""
    build_dir.mkdir(parents=True, exist_ok=True)
    job_config = build_dir / "job_config.json"
    # No data_root and no run_slot: the step passes both (the bucket name is only known at deploy time).
    values: dict[str, Any] = {
        "source": config.source_order[0],
        "metrics_namespace": config.metrics_namespace,
        # A name, not an ARN: the ARN holds the account and region, unknown when this file is written.
        "alerts_topic": topic_name(config.project),
    }
    if config.job_sources:
        values["sources"] = list(config.job_sources)
    for name, secret_name in config.token_secrets.items():  # the job reads the token there; the value never passes here
        values[_token_of(name).secret_key] = secret_name
    # The Iceberg tables in the Glue database of the stack. No warehouse: the bucket's name is only known at deploy,
    # and the job's default, `<data_root>/warehouse`, is `s3://<data bucket>/warehouse` with the step's --data-root.
    values["lake"] = {"catalog": "glue", "database": config.database_name}
    # The quality gate, whose coverage floors the alarms also read (Alarms(coverage_floors=...)).
    values["quality"] = asdict(config.quality_settings())
    job_config.write_text(json.dumps(values, sort_keys=True))
    main_script = build_dir / "main.py"
    shutil.copyfile(REPO_ROOT / "etl" / "main.py", main_script)
    return {
        "main_script": main_script,
        "code_zip": write_package_zip(REPO_ROOT / "etl", build_dir / "etl.zip"),
        "job_config": job_config,
        "bootstrap_script": REPO_ROOT / "infra" / "emr" / "bootstrap.sh",
        "requirements": cluster_lock,  # every package with its hashes: the bootstrap installs with --require-hashes
        "wheels": check_wheelhouse(cluster_lock, wheels_dir),  # exactly the lock's wheels, or a one-line error
    }


def _trigger_environment(
    config: PipelineConfig, lake: DataLake, code: CodeDelivery, profile: EmrProfile
) -> dict[str, str]:
    """Every location and name the trigger needs, by TriggerConfig field; lambda_trigger/config.py names them."""
    settings = {
        "project": config.project,
        "release_label": config.emr_release,
        "log_uri": lake.emr_log_uri,
        "service_role": profile.service_role.role_arn,
        "instance_profile": profile.instance_profile.instance_profile_name,
        "security_configuration": profile.security_configuration_name,
        "subnet_ids": ",".join(profile.subnet_ids),
        "primary_security_group": profile.primary_security_group.attr_group_id,
        "core_security_group": profile.core_security_group.attr_group_id,
        "primary_instance_types": ",".join(config.primary_instance_types),
        "primary_market": config.primary_market,
        "core_instance_types": ",".join(config.core_instance_types),
        "core_capacity": str(config.core_capacity),
        "backfill_core_capacity": str(config.backfill_core_capacity),
        "idle_timeout_s": str(config.idle_timeout_minutes * 60),
        "main_uri": code.main_uri,
        "code_uri": code.code_uri,
        "job_config_uri": code.job_config_uri,
        "data_root": lake.data_root,
        "bootstrap_uri": code.bootstrap_uri,
        "requirements_uri": code.requirements_uri,
        "wheels_uri": code.wheels_uri,
        "region": Aws.REGION,  # exported to the job by the cluster configuration
    }
    if profile.service_access_security_group is not None:
        settings["service_access_security_group"] = profile.service_access_security_group.attr_group_id
    return environment_for(settings)


def _token_of(name: str) -> Token:
    """The API token a source of the job config needs (PipelineConfig.token_secrets names only such sources)."""
    token = source(name).token
    assert token is not None
    return token
