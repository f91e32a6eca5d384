"""CDK assertions on the synthesized template: the properties that make the deployment safe and loud."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from tests.infra.conftest import Synthesized, synthesize


def _statements(synthesized: Synthesized, role_fragment: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to the role whose logical id contains the fragment."""
    found = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"].get("Roles", [])]
        if any(role_fragment in r for r in roles):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- schedule and trigger ---------------------------------------------------------------------------------------


def test_schedule_invokes_the_trigger_with_retries_and_a_dead_letter_queue(template: Template) -> None:
    dlq = Capture()
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(2 hours)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [Match.string_like_regexp("TriggerFunction"), "Arn"]},
                        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}},
                    }
                )
            ],
        },
    )
    assert "TriggerDeadLetterQueue" in dlq.as_string()


def test_trigger_function_has_async_retries_and_dlq_and_no_reserved_concurrency(
    template: Template, synthesized: Synthesized
) -> None:
    # No reserved concurrency: Lambda keeps 100 executions unreserved, which an account at a quota of 10 cannot.
    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    assert "ReservedConcurrentExecutions" not in function["Properties"]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Handler": "lambda_trigger.handler.handler",
            "Architectures": ["arm64"],
            "DeadLetterConfig": {
                "TargetArn": {"Fn::GetAtt": [Match.string_like_regexp("TriggerDeadLetterQueue"), "Arn"]}
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )


def test_trigger_environment_carries_every_location(synthesized: Synthesized) -> None:
    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    env = function["Properties"]["Environment"]["Variables"]

    # The same names lambda_trigger/config.py reads, written out here.
    assert sorted(env) == sorted(
        [
            "PROJECT", "EMR_RELEASE_LABEL", "EMR_LOG_URI", "EMR_SERVICE_ROLE", "EMR_INSTANCE_PROFILE",
            "EMR_SECURITY_CONFIGURATION", "EMR_SUBNET_IDS", "EMR_PRIMARY_SECURITY_GROUP", "EMR_CORE_SECURITY_GROUP",
            "EMR_PRIMARY_INSTANCE_TYPES", "EMR_PRIMARY_MARKET", "EMR_CORE_INSTANCE_TYPES", "EMR_CORE_CAPACITY",
            "EMR_IDLE_TIMEOUT_SECONDS", "JOB_MAIN_URI", "JOB_CODE_URI", "JOB_CONFIG_URI", "JOB_DATA_ROOT",
            "BOOTSTRAP_SCRIPT_URI", "BOOTSTRAP_REQUIREMENTS_URI", "BOOTSTRAP_WHEELS_URI",
            "EMR_BACKFILL_CORE_CAPACITY", "JOB_REGION",
        ]
    )  # fmt: skip
    assert env["PROJECT"] == "flight-kpis"
    assert env["EMR_RELEASE_LABEL"] == "emr-7.13.0"
    assert env["EMR_PRIMARY_INSTANCE_TYPES"] == "m7g.xlarge,m6g.xlarge"
    assert env["EMR_CORE_INSTANCE_TYPES"] == "m7g.xlarge,m6g.xlarge,r7g.xlarge"
    assert env["EMR_PRIMARY_MARKET"] == "on-demand"
    assert env["EMR_CORE_CAPACITY"] == "0"  # one node by default: no core fleet
    assert env["EMR_BACKFILL_CORE_CAPACITY"] == "4"
    assert env["EMR_IDLE_TIMEOUT_SECONDS"] == "1800"  # 30 minutes
    assert env["JOB_REGION"] == {"Ref": "AWS::Region"}  # the stack's region, which the cluster exports to the job
    assert env["JOB_DATA_ROOT"]["Fn::Join"][1][0] == "s3://"
    assert env["JOB_DATA_ROOT"]["Fn::Join"][1][1]["Ref"].startswith("DataLakeData")
    assert "DataLakeLogs" in _text(env["EMR_LOG_URI"]) and "/emr/" in _text(env["EMR_LOG_URI"])
    for name, suffix in [
        ("JOB_MAIN_URI", ".py"),
        ("JOB_CODE_URI", ".zip"),
        ("JOB_CONFIG_URI", ".json"),
        ("BOOTSTRAP_REQUIREMENTS_URI", ".txt"),
        ("BOOTSTRAP_WHEELS_URI", ".zip"),  # the wheels folder, zipped by CDK
    ]:
        assert env[name]["Fn::Sub"].startswith("s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/")
        assert env[name]["Fn::Sub"].endswith(suffix)


def test_trigger_environment_is_exactly_what_the_trigger_reads(synthesized: Synthesized) -> None:
    from lambda_trigger.config import TriggerConfig

    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    env = function["Properties"]["Environment"]["Variables"]
    plain = _plain(env)
    read: set[str] = set()

    class Recorded(dict):
        """The environment, noting each name the trigger's config looks up."""

        def get(self, key: Any, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

        def __getitem__(self, key: Any) -> Any:
            read.add(key)
            return super().__getitem__(key)

    TriggerConfig.from_env(Recorded(plain))

    # Every name set is read, and every name read is set, but the service-access group of private subnets.
    assert read - set(env) == {"EMR_SERVICE_ACCESS_SECURITY_GROUP"}
    assert set(env) <= read


def _plain(env: dict[str, Any]) -> dict[str, str]:
    """The function's environment with CloudFormation references standing in as text (a region for the region)."""
    stand_in = {"JOB_REGION": "eu-west-3"}
    return {
        name: value if isinstance(value, str) else stand_in.get(name, f"resolved-at-deploy-{name}")
        for name, value in env.items()
    }


def _job_config(synthesized: Synthesized) -> dict[str, Any]:
    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    key = function["Properties"]["Environment"]["Variables"]["JOB_CONFIG_URI"]["Fn::Sub"].rsplit("/", 1)[1]
    (asset,) = synthesized.outdir.glob(f"asset.{key}")
    return json.loads(asset.read_text())


# The job's default floors (README "Quality gate"), written out.
DEFAULT_FLOORS = {
    "origin_airport": 0.9,
    "destination_airport": 0.9,
    "route_distance": 0.9,
    "origin_continent": 0.9,
    "destination_continent": 0.9,
    "airline_name": 0.75,
    "airline_country": 0.9,
    "aircraft_manufacturer": 0.9,
    "aircraft_model": 0.9,
}


def test_job_config_asset_has_no_data_root_the_chosen_source_the_glue_lake_and_the_quality_gate(
    synthesized: Synthesized,
) -> None:
    values = _job_config(synthesized)

    assert {k: v for k, v in values.items() if k != "quality"} == {
        "alerts_topic": "flight-kpis-alarms",
        "metrics_namespace": "FlightKpis",
        "source": "live",
        "lake": {"catalog": "glue", "database": "flight_kpis"},
    }
    assert values["quality"]["coverage_floors"] == {}  # the job's defaults
    assert (values["quality"]["min_silver_rows"], values["quality"]["max_quarantine_share"]) == (1, 0.05)


def test_job_config_reads_back_with_the_warehouse_in_the_data_bucket(synthesized: Synthesized) -> None:
    from etl.core.config import JobConfig

    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    data_root = function["Properties"]["Environment"]["Variables"]["JOB_DATA_ROOT"]
    # The step passes --data-root s3://<data bucket>; the bucket's name stands in here.
    assert data_root == {"Fn::Join": ["", ["s3://", {"Ref": data_root["Fn::Join"][1][1]["Ref"]}]]}
    config = JobConfig.from_json(json.dumps(_job_config(synthesized)), run_slot="2026-11-22T14", data_root="s3://b")

    assert (config.lake.catalog, config.lake.database, config.warehouse) == ("glue", "flight_kpis", "s3://b/warehouse")
    assert config.quality.floors() == DEFAULT_FLOORS


# --- storage ----------------------------------------------------------------------------------------------------


def test_every_bucket_is_encrypted_private_and_retained(synthesized: Synthesized) -> None:
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        }
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["DeletionPolicy"] == "Retain"


def test_every_bucket_refuses_plain_http(synthesized: Synthesized) -> None:
    policies = synthesized.resources("AWS::S3::BucketPolicy").values()
    secured = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
                secured.add(policy["Properties"]["Bucket"]["Ref"])
    assert secured == set(synthesized.resources("AWS::S3::Bucket"))


def test_data_and_results_buckets_log_accesses_to_the_logs_bucket(template: Template) -> None:
    for prefix in ("s3-access/data/", "s3-access/athena-results/"):
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "LoggingConfiguration": {
                    "DestinationBucketName": {"Ref": Match.string_like_regexp("DataLakeLogs")},
                    "LogFilePrefix": prefix,
                }
            },
        )


def test_raw_data_expires_after_three_days_and_the_data_bucket_is_versioned(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": "expire-raw", "Prefix": "raw/", "ExpirationInDays": 3, "Status": "Enabled"}
                        ),
                    ]
                )
            },
        },
    )


def test_data_bucket_lifecycle_expires_raw_only_and_keeps_old_versions_a_week(synthesized: Synthesized) -> None:
    (data,) = [b for k, b in synthesized.resources("AWS::S3::Bucket").items() if k.startswith("DataLakeData")]
    rules = {r["Id"]: r for r in data["Properties"]["LifecycleConfiguration"]["Rules"]}

    # README: old versions are kept 7 days, raw's included.
    assert rules["expire-raw"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    assert rules["expire-old-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    # Current objects expire under raw/ only: Iceberg's own snapshot expiry removes the warehouse's files.
    expiring = [r.get("Prefix", "") for r in rules.values() if "ExpirationInDays" in r]
    assert expiring == ["raw/"]


# --- EMR profile ------------------------------------------------------------------------------------------------


def test_cluster_nodes_read_the_code_and_write_only_the_data_and_log_prefixes(synthesized: Synthesized) -> None:
    statements = {s.get("Sid"): s for s in _statements(synthesized, "EmrProfileInstanceRole")}

    read_code = statements["ReadCode"]
    assert read_code["Action"] == "s3:GetObject"
    suffixes = sorted(re.search(r"\.(\w+)\W*$", _text(r)).group(1) for r in read_code["Resource"])  # type: ignore[union-attr]
    # main.py, etl.zip, job config, bootstrap, locked requirements, wheels
    assert suffixes == sorted(["py", "zip", "json", "sh", "txt", "zip"])
    assert all("cdk-hnb659fds-assets" in _text(r) for r in read_code["Resource"])

    write = statements["ReadWriteDataPrefixes"]
    assert sorted(_as_list(write["Action"])) == sorted(
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    )
    prefixes = sorted(r["Fn::Join"][1][1] for r in write["Resource"])
    assert prefixes == sorted(["/raw/*", "/warehouse/*", "/runs/*"])
    assert all("DataLakeData" in _text(r) for r in write["Resource"])

    listing = statements["ListDataPrefixes"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["raw/*", "warehouse/*", "runs/*"]}}
    logs = statements["WriteEmrLogs"]
    assert logs["Action"] == "s3:PutObject" and logs["Resource"]["Fn::Join"][1][1] == "/emr/*"
    assert "DataLakeLogs" in _text(logs["Resource"])

    metric = statements["PublishSuccessMetric"]
    assert metric["Condition"] == {"StringEquals": {"cloudwatch:namespace": "FlightKpis"}}
    # Nothing grants a wildcard action, nor any access to the results bucket.
    for statement in statements.values():
        assert all(not a.endswith("*") for a in _as_list(statement["Action"])), statement
        assert "DataLakeAthenaResults" not in _text(statement)


def test_cluster_nodes_use_the_glue_catalog_for_this_database_and_its_tables_only(synthesized: Synthesized) -> None:
    statements = {s.get("Sid"): s for s in _statements(synthesized, "EmrProfileInstanceRole")}
    glue = statements["IcebergGlueCatalog"]

    assert sorted(glue["Action"]) == ["glue:CreateTable", "glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    arns = [r["Fn::Join"][1] for r in glue["Resource"]]
    prefix = ["arn:", {"Ref": "AWS::Partition"}, ":glue:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}]
    assert all(a[:6] == prefix for a in arns)
    tables = sorted(a[6] for a in arns)
    assert tables[:2] == [":catalog", ":database/flight_kpis"]
    # The lake's tables, written out (etl/publication/lake.py): silver, quarantine, the 8 KPI tables, runs.
    assert tables[2:] == sorted(
        f":table/flight_kpis/{t}"
        for t in [
            "silver_flights", "quarantine_flights", "runs",
            "airline_most_live_flights", "airline_most_regional_flights_by_continent", "longest_live_flight",
            "average_route_distance_by_continent", "manufacturer_most_live_flights", "top_models_by_airline_country",
            "most_used_model_by_continent", "airport_flow_imbalance",
        ]
    )  # fmt: skip


def test_emr_roles_and_security_configuration(template: Template, synthesized: Synthesized) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "elasticmapreduce.amazonaws.com"}})]
            },
            "ManagedPolicyArns": [
                Match.object_like(
                    {"Fn::Join": ["", Match.array_with([":iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"])]}
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::EMR::SecurityConfiguration",
        {
            "SecurityConfiguration": {
                "EncryptionConfiguration": Match.object_like(
                    {
                        "EnableAtRestEncryption": True,
                        "AtRestEncryptionConfiguration": {
                            "S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"},
                            "LocalDiskEncryptionConfiguration": {
                                "EncryptionKeyProviderType": "AwsKms",
                                "AwsKmsKey": {"Fn::GetAtt": [Match.string_like_regexp("EmrProfileDiskKey"), "Arn"]},
                                "EnableEbsEncryption": True,
                            },
                        },
                    }
                )
            }
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    passes = [s for s in _statements(synthesized, "EmrProfileServiceRole") if s["Action"] == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert passes[0]["Resource"]["Fn::GetAtt"][0].startswith("EmrProfileInstanceRole")


def test_default_network_has_no_nat_gateway_and_an_s3_endpoint(synthesized: Synthesized, template: Template) -> None:
    assert synthesized.resources("AWS::EC2::NatGateway") == {}
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    template.has_resource_properties("AWS::EC2::FlowLog", {"LogDestinationType": "s3", "TrafficType": "REJECT"})
    for group in synthesized.resources("AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]  # nothing from outside the cluster
        assert {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"} in group["Properties"]["Tags"]


def test_trigger_may_pass_each_emr_role_only_to_its_service(synthesized: Synthesized) -> None:
    statements = {s.get("Sid"): s for s in _statements(synthesized, "TriggerFunctionServiceRole")}

    passes = {
        re.sub(r"[0-9A-F]{8}$", "", s["Resource"]["Fn::GetAtt"][0]): s["Condition"]
        for s in statements.values()
        if s["Action"] == "iam:PassRole"
    }
    assert passes == {
        "EmrProfileServiceRole": {"StringLike": {"iam:PassedToService": "elasticmapreduce.amazonaws.com*"}},
        "EmrProfileInstanceRole": {"StringLike": {"iam:PassedToService": "ec2.amazonaws.com*"}},
    }
    start = statements["StartTaggedClusters"]
    assert start["Action"] == "elasticmapreduce:RunJobFlow"
    assert start["Condition"] == {"StringEquals": {"aws:RequestTag/for-use-with-amazon-emr-managed-policies": "true"}}
    assert statements["FindClusters"]["Action"] == "elasticmapreduce:ListClusters"


def test_trigger_may_create_only_the_emr_cleanup_service_linked_role(synthesized: Synthesized) -> None:
    statements = {s.get("Sid"): s for s in _statements(synthesized, "TriggerFunctionServiceRole")}
    create = statements["CreateEmrCleanupRole"]

    assert create["Action"] == "iam:CreateServiceLinkedRole"
    assert create["Condition"] == {"StringEquals": {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com"}}
    assert create["Resource"]["Fn::Join"][1][-1] == (
        ":role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup"
    )


def test_trigger_role_writes_only_its_own_log_group_without_a_managed_policy(synthesized: Synthesized) -> None:
    (role,) = [r for k, r in synthesized.resources("AWS::IAM::Role").items() if k.startswith("TriggerFunction")]
    assert "ManagedPolicyArns" not in role["Properties"]
    statements = {s.get("Sid"): s for s in _statements(synthesized, "TriggerFunctionServiceRole")}
    logs = statements["WriteOwnLogs"]

    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"]["Fn::GetAtt"][0].startswith("TriggerLogs")


def test_instance_profile_is_named_after_its_role(synthesized: Synthesized) -> None:
    (profile,) = synthesized.resources("AWS::IAM::InstanceProfile").values()
    (role,) = profile["Properties"]["Roles"]

    assert role["Ref"].startswith("EmrProfileInstanceRole")
    assert profile["Properties"]["InstanceProfileName"] == role  # Ref of a role is its name


# --- loud failures ----------------------------------------------------------------------------------------------


def test_emr_failures_are_sent_to_the_topic(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.emr"],
                "detail-type": ["EMR Cluster State Change"],
                "detail": {"state": ["TERMINATED_WITH_ERRORS"], "name": [{"prefix": "flight-kpis-"}]},
            },
            "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("AlarmsTopic")}})],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.emr"],
                "detail-type": ["EMR Step Status Change"],
                "detail": {"state": ["FAILED", "CANCELLED"], "name": [{"prefix": "flight-kpis "}]},
            },
            "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("AlarmsTopic")}})],
        },
    )


def test_topic_is_encrypted_and_mails_the_alarm_address(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("AlarmsTopicKey"), "Arn"]}}
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Endpoint": "oncall@example.com",
            "Protocol": "email",
            "TopicArn": {"Ref": Match.string_like_regexp("AlarmsTopic")},
        },
    )


def test_no_successful_run_in_four_hours_alarms(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "FlightKpis",
            "MetricName": "SuccessfulRuns",
            "Statistic": "Sum",
            "Period": 3600,
            "EvaluationPeriods": 4,
            "DatapointsToAlarm": 4,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
        },
    )
    assert "Dimensions" not in json.dumps(
        template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "SuccessfulRuns"}})
    )


def test_trigger_errors_and_dead_letters_alarm(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 1,
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
        },
    )


def test_failed_and_degraded_runs_alarm(template: Template) -> None:
    for metric in ("FailedRuns", "DegradedRuns"):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "FlightKpis",
                "MetricName": metric,
                "Statistic": "Sum",
                "Threshold": 1,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
            },
        )


def test_live_flights_far_below_usual_alarms_on_an_anomaly_band(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "ComparisonOperator": "LessThanLowerThreshold",
            "ThresholdMetricId": Match.any_value(),
            "Metrics": Match.array_with(
                [
                    Match.object_like({"Expression": Match.string_like_regexp(r"ANOMALY_DETECTION_BAND\(m0,\s*3\)")}),
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": {"Namespace": "FlightKpis", "MetricName": "LiveFlights"},
                                    "Period": 7200,
                                    "Stat": "Minimum",
                                }
                            )
                        }
                    ),
                ]
            ),
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmsTopic")}],
        },
    )


def _coverage_floors(template: dict[str, Any]) -> dict[str, float]:
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    return {
        a["Dimensions"][0]["Value"]: a["Threshold"]
        for a in alarms
        if a.get("MetricName") == "MappingCoverage" and a["ComparisonOperator"] == "LessThanThreshold"
    }


def test_each_mapping_coverage_alarms_below_its_floor(synthesized: Synthesized) -> None:
    assert _coverage_floors(synthesized.template) == DEFAULT_FLOORS  # the job's defaults (README "Quality gate")


def test_a_deployment_s_floors_reach_both_the_job_config_and_the_alarms(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    floors = synthesize(tmp_path_factory.mktemp("cdk_out_floors"), coverage_floors="airline_name=0.6,route_distance=0")

    assert _job_config(floors)["quality"]["coverage_floors"] == {"airline_name": 0.6, "route_distance": 0.0}
    expected = {k: v for k, v in {**DEFAULT_FLOORS, "airline_name": 0.6}.items() if k != "route_distance"}
    assert _coverage_floors(floors.template) == expected  # a floor of 0 disables the check and its alarm


def test_the_cluster_may_publish_to_the_alarm_topic_and_use_its_key(synthesized: Synthesized) -> None:
    statements = _statements(synthesized, "InstanceRole")
    publish = [s for s in statements if s["Action"] == "sns:Publish"]
    assert [s["Resource"] for s in publish] == [{"Ref": next(k for k in synthesized.resources("AWS::SNS::Topic"))}]
    key_id = next(k for k in synthesized.resources("AWS::KMS::Key") if "TopicKey" in k)
    key = [s for s in statements if _text(s["Resource"]) == _text({"Fn::GetAtt": [key_id, "Arn"]})]
    assert [sorted(_as_list(s["Action"])) for s in key] == [["kms:Decrypt", "kms:GenerateDataKey"]]
    (topic,) = synthesized.resources("AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == "flight-kpis-alarms"


def test_catalog_is_wired_to_the_data_bucket(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Glue::Database", {"DatabaseInput": Match.object_like({"Name": "flight_kpis"})}
    )
    template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {"BytesScannedCutoffPerQuery": 10 * 1024**3, "EnforceWorkGroupConfiguration": True}
            )
        },
    )


def test_dashboard_is_deployed_only_for_a_quicksight_principal(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert [t for t in synthesized.template["Resources"].values() if t["Type"].startswith("AWS::QuickSight::")] == []

    principal = "arn:aws:quicksight:us-east-1:111122223333:user/default/analyst"
    with_dashboard = synthesize(tmp_path_factory.mktemp("cdk_out_qs"), quicksight_principal_arn=principal)

    dashboards = with_dashboard.resources("AWS::QuickSight::Dashboard")
    assert len(dashboards) == 1
    assert principal in json.dumps(dashboards)
    assert with_dashboard.nag_report["violations"] == []


# --- cluster shape ----------------------------------------------------------------------------------------------


def _request_from_synthesized_environment(synthesized: Synthesized) -> dict[str, Any]:
    """The RunJobFlow request the deployed trigger would send, CloudFormation references standing in as text."""
    from lambda_trigger.cluster_request import build_run_job_flow_request
    from lambda_trigger.config import TriggerConfig

    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    env = function["Properties"]["Environment"]["Variables"]
    return build_run_job_flow_request(TriggerConfig.from_env(_plain(env)), "2026-11-22T14")


def test_default_deployment_runs_one_on_demand_node_without_core_fleet(synthesized: Synthesized) -> None:
    (primary,) = _request_from_synthesized_environment(synthesized)["Instances"]["InstanceFleets"]

    assert primary["InstanceFleetType"] == "MASTER"
    assert (primary["TargetOnDemandCapacity"], primary["TargetSpotCapacity"]) == (1, 0)
    assert [t["InstanceType"] for t in primary["InstanceTypeConfigs"]] == ["m7g.xlarge", "m6g.xlarge"]


def test_cluster_wheels_asset_is_the_wheels_folder(synthesized: Synthesized) -> None:
    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    key = function["Properties"]["Environment"]["Variables"]["BOOTSTRAP_WHEELS_URI"]["Fn::Sub"].rsplit("/", 1)[1]
    (folder,) = synthesized.outdir.glob(f"asset.{key.removesuffix('.zip')}")

    assert sorted(p.name for p in folder.iterdir()) == ["tinypkg-1.0-py3-none-any.whl"]


def test_synth_without_the_cluster_wheels_stops_with_one_line(tmp_path: Any) -> None:
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context
    from infra.dependencies import LockError

    lock = tmp_path / "cluster.txt"
    lock.write_text("tinypkg==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    empty = tmp_path / "wheels"
    empty.mkdir()
    with pytest.raises(LockError) as caught:
        build_app(cdk.App(context=cdk_json_context()), build_dir=tmp_path / "b", cluster_lock=lock, wheels_dir=empty)
    assert str(caught.value) == "cluster wheels: no wheel of tinypkg==1.0; run `make wheels` to download them again"


def test_the_deployed_trigger_asks_for_the_tagged_iceberg_cluster_in_the_stack_s_region(
    synthesized: Synthesized,
) -> None:
    request = _request_from_synthesized_environment(synthesized)

    assert {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"} in request["Tags"]
    by_class = {c["Classification"]: c for c in request["Configurations"]}
    assert by_class["iceberg-defaults"]["Properties"] == {"iceberg.enabled": "true"}
    assert by_class["spark-defaults"]["Properties"] == {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    }
    (spark_env,) = by_class["spark-env"]["Configurations"]
    (yarn_env,) = by_class["yarn-env"]["Configurations"]
    assert spark_env["Properties"]["AWS_REGION"] == yarn_env["Properties"]["AWS_DEFAULT_REGION"] == "eu-west-3"
    assert "spark.sql.catalog.lake" not in str(request)  # the job sets its catalog from its config
