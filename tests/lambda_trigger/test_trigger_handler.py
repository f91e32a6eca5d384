"""The trigger under moto: exactly the intended cluster, one per run slot, none for a malformed event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_trigger import handler as handler_module
from lambda_trigger.backfill_range import MalformedBackfillError
from lambda_trigger.config import TriggerConfig, TriggerConfigError
from lambda_trigger.handler import trigger
from lambda_trigger.run_slot import MalformedEventError

ENV = {
    "PROJECT": "flight-kpis",
    "EMR_RELEASE_LABEL": "emr-7.13.0",
    "EMR_LOG_URI": "s3://logs-bucket/emr/",
    "EMR_SERVICE_ROLE": "arn:aws:iam::123456789012:role/emr-service",
    "EMR_INSTANCE_PROFILE": "emr-instance-profile",
    "EMR_SECURITY_CONFIGURATION": "flight-kpis-at-rest",
    "EMR_SUBNET_IDS": "subnet-aaa,subnet-bbb",
    "EMR_PRIMARY_SECURITY_GROUP": "sg-primary",
    "EMR_CORE_SECURITY_GROUP": "sg-core",
    "EMR_PRIMARY_INSTANCE_TYPES": "m7g.xlarge,m6g.xlarge",
    "EMR_PRIMARY_MARKET": "on-demand",
    "EMR_CORE_INSTANCE_TYPES": "m7g.xlarge",
    "EMR_CORE_CAPACITY": "0",
    "EMR_IDLE_TIMEOUT_SECONDS": "900",
    "JOB_MAIN_URI": "s3://assets/main.py",
    "JOB_CODE_URI": "s3://assets/etl.zip",
    "JOB_CONFIG_URI": "s3://assets/job_config.json",
    "JOB_DATA_ROOT": "s3://data-bucket",
    "BOOTSTRAP_SCRIPT_URI": "s3://assets/bootstrap.sh",
    "BOOTSTRAP_REQUIREMENTS_URI": "s3://assets/requirements.txt",
    "BOOTSTRAP_WHEELS_URI": "s3://assets/wheels.zip",
    "EMR_BACKFILL_CORE_CAPACITY": "6",
    "JOB_REGION": "eu-west-3",
}
DEVANAGARI = str.maketrans("0123456789", "".join(chr(0x0966 + d) for d in range(10)))  # digits int() would read
EVENT = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-22T14:00:00Z"}


def _fleet_types(*types: str) -> list[dict[str, Any]]:
    ebs = {
        "EbsBlockDeviceConfigs": [
            {"VolumeSpecification": {"VolumeType": "gp3", "SizeInGB": 64}, "VolumesPerInstance": 1}
        ],
        "EbsOptimized": True,
    }
    return [{"InstanceType": t, "WeightedCapacity": 1, "EbsConfiguration": ebs} for t in types]


SPOT_THEN_ON_DEMAND = {
    "SpotSpecification": {
        "TimeoutDurationMinutes": 10,
        "TimeoutAction": "SWITCH_TO_ON_DEMAND",
        "AllocationStrategy": "price-capacity-optimized",
    },
    "OnDemandSpecification": {"AllocationStrategy": "lowest-price"},
}

# Written out by hand: what the 14:00 slot's cluster must be asked for, one on-demand node and no core fleet, the
# tag AmazonEMRServicePolicy_v2 requires, the job's region, and the release's Iceberg with its SQL extensions.
EXPECTED_REQUEST = {
    "Name": "flight-kpis-2026-11-22T14",
    "ReleaseLabel": "emr-7.13.0",
    "LogUri": "s3://logs-bucket/emr/",
    "Applications": [{"Name": "Spark"}],
    "ServiceRole": "arn:aws:iam::123456789012:role/emr-service",
    "JobFlowRole": "emr-instance-profile",
    "SecurityConfiguration": "flight-kpis-at-rest",
    "VisibleToAllUsers": True,
    "Instances": {
        "InstanceFleets": [
            {
                "Name": "primary",
                "InstanceFleetType": "MASTER",
                "TargetOnDemandCapacity": 1,
                "TargetSpotCapacity": 0,
                "InstanceTypeConfigs": _fleet_types("m7g.xlarge", "m6g.xlarge"),
                "LaunchSpecifications": {"OnDemandSpecification": {"AllocationStrategy": "lowest-price"}},
            },
        ],
        "Ec2SubnetIds": ["subnet-aaa", "subnet-bbb"],
        "EmrManagedMasterSecurityGroup": "sg-primary",
        "EmrManagedSlaveSecurityGroup": "sg-core",
        "KeepJobFlowAliveWhenNoSteps": False,
        "TerminationProtected": False,
    },
    "AutoTerminationPolicy": {"IdleTimeout": 900},
    "BootstrapActions": [
        {
            "Name": "install-job-dependencies",
            "ScriptBootstrapAction": {
                "Path": "s3://assets/bootstrap.sh",
                "Args": ["s3://assets/requirements.txt", "s3://assets/wheels.zip", "/usr/bin/python3.11"],
            },
        }
    ],
    "Configurations": [
        {
            "Classification": "spark-env",
            "Configurations": [
                {
                    "Classification": "export",
                    "Properties": {
                        "PYSPARK_PYTHON": "/usr/bin/python3.11",
                        "AWS_REGION": "eu-west-3",
                        "AWS_DEFAULT_REGION": "eu-west-3",
                    },
                }
            ],
            "Properties": {},
        },
        {
            "Classification": "yarn-env",
            "Configurations": [
                {
                    "Classification": "export",
                    "Properties": {"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3"},
                }
            ],
            "Properties": {},
        },
        {
            "Classification": "spark-defaults",
            "Properties": {"spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"},
        },
        {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}},
    ],
    "Steps": [
        {
            "Name": "flight-kpis 2026-11-22T14",
            "ActionOnFailure": "TERMINATE_CLUSTER",
            "HadoopJarStep": {
                "Jar": "command-runner.jar",
                "Args": [
                    "spark-submit",
                    "--deploy-mode",
                    "client",
                    "s3://assets/main.py",
                    "--code",
                    "s3://assets/etl.zip",
                    "--config",
                    "s3://assets/job_config.json",
                    "--run-slot",
                    "2026-11-22T14",
                    "--data-root",
                    "s3://data-bucket",
                ],
            },
        }
    ],
    "Tags": [
        {"Key": "project", "Value": "flight-kpis"},
        {"Key": "run-slot", "Value": "2026-11-22T14"},
        {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"},
    ],
}


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so that nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def emr(aws_credentials: None) -> Iterator[Any]:
    """A moto EMR client that also records every RunJobFlow request it sends."""
    with mock_aws():
        client = boto3.client("emr", region_name="us-east-1")
        client.sent_requests = []  # type: ignore[attr-defined]

        def record(params: dict[str, Any], **_: Any) -> None:
            client.sent_requests.append(params)  # type: ignore[attr-defined]

        client.meta.events.register("provide-client-params.emr.RunJobFlow", record)
        yield client


def _clusters(emr: Any) -> list[dict[str, Any]]:
    return emr.list_clusters()["Clusters"]


def test_cluster_is_created_with_exactly_the_intended_request(emr: Any) -> None:
    result = trigger(EVENT, emr=emr, environ=ENV)

    assert emr.sent_requests == [EXPECTED_REQUEST]
    assert result["status"] == "started" and result["run_slot"] == "2026-11-22T14"
    cluster = emr.describe_cluster(ClusterId=result["cluster_id"])["Cluster"]
    assert cluster["Name"] == "flight-kpis-2026-11-22T14"
    assert cluster["ReleaseLabel"] == "emr-7.13.0"
    assert [a["Name"] for a in cluster["Applications"]] == ["Spark"]
    assert {t["Key"]: t["Value"] for t in cluster["Tags"]} == {
        "project": "flight-kpis",
        "run-slot": "2026-11-22T14",
        "for-use-with-amazon-emr-managed-policies": "true",
    }
    assert cluster["AutoTerminate"] is True  # KeepJobFlowAliveWhenNoSteps=False
    assert cluster["SecurityConfiguration"] == "flight-kpis-at-rest"
    (step,) = emr.list_steps(ClusterId=result["cluster_id"])["Steps"]
    assert step["ActionOnFailure"] == "TERMINATE_CLUSTER"
    assert step["Config"]["Args"][step["Config"]["Args"].index("--run-slot") + 1] == "2026-11-22T14"
    (action,) = emr.list_bootstrap_actions(ClusterId=result["cluster_id"])["BootstrapActions"]
    assert action["ScriptPath"] == "s3://assets/bootstrap.sh"


def test_spot_primary_and_core_fleet_when_configured(emr: Any) -> None:
    env = {**ENV, "EMR_PRIMARY_MARKET": "spot", "EMR_CORE_CAPACITY": "3", "EMR_CORE_INSTANCE_TYPES": "r7g.xlarge"}

    result = trigger(EVENT, emr=emr, environ=env)

    (request,) = emr.sent_requests
    assert request["Instances"]["InstanceFleets"] == [
        {
            "Name": "primary",
            "InstanceFleetType": "MASTER",
            "TargetOnDemandCapacity": 0,
            "TargetSpotCapacity": 1,
            "InstanceTypeConfigs": _fleet_types("m7g.xlarge", "m6g.xlarge"),
            "LaunchSpecifications": SPOT_THEN_ON_DEMAND,
        },
        {
            "Name": "core",
            "InstanceFleetType": "CORE",
            "TargetOnDemandCapacity": 0,
            "TargetSpotCapacity": 3,
            "InstanceTypeConfigs": _fleet_types("r7g.xlarge"),
            "LaunchSpecifications": SPOT_THEN_ON_DEMAND,
        },
    ]
    assert result["status"] == "started"


def test_second_trigger_for_an_active_slot_starts_nothing(emr: Any, caplog: pytest.LogCaptureFixture) -> None:
    first = trigger(EVENT, emr=emr, environ=ENV)
    caplog.set_level("INFO", logger=handler_module.__name__)
    # A retry of the same schedule (same hour, a few minutes later) finds the cluster still active.
    again = trigger({**EVENT, "time": "2026-11-22T14:03:10Z"}, emr=emr, environ=ENV)

    assert again == {"status": "already_running", "run_slot": "2026-11-22T14", "cluster_id": first["cluster_id"]}
    assert len(emr.sent_requests) == 1
    assert len(_clusters(emr)) == 1
    assert '"event": "cluster_not_started"' in caplog.text and first["cluster_id"] in caplog.text


def test_next_slot_gets_its_own_cluster(emr: Any) -> None:
    first = trigger(EVENT, emr=emr, environ=ENV)
    second = trigger({**EVENT, "time": "2026-11-22T16:00:00Z"}, emr=emr, environ=ENV)

    assert second["status"] == "started" and second["cluster_id"] != first["cluster_id"]
    assert sorted(c["Name"] for c in _clusters(emr)) == ["flight-kpis-2026-11-22T14", "flight-kpis-2026-11-22T16"]


def test_terminated_cluster_of_the_slot_does_not_block_a_rerun(emr: Any) -> None:
    first = trigger(EVENT, emr=emr, environ=ENV)
    emr.terminate_job_flows(JobFlowIds=[first["cluster_id"]])

    rerun = trigger(EVENT, emr=emr, environ=ENV)

    assert rerun["status"] == "started" and rerun["cluster_id"] != first["cluster_id"]


def test_same_name_without_the_project_tags_is_not_taken_for_the_slot(emr: Any) -> None:
    emr.run_job_flow(
        Name="flight-kpis-2026-11-22T14",
        ReleaseLabel="emr-7.13.0",
        Instances={"InstanceCount": 1, "MasterInstanceType": "m7g.xlarge", "KeepJobFlowAliveWhenNoSteps": True},
        JobFlowRole="x",
        ServiceRole="y",
    )

    assert trigger(EVENT, emr=emr, environ=ENV)["status"] == "started"


def test_malformed_event_creates_no_cluster(emr: Any) -> None:
    with pytest.raises(MalformedEventError, match="event has no 'time' field"):
        trigger({"detail-type": "Scheduled Event"}, emr=emr, environ=ENV)

    assert emr.sent_requests == []
    assert _clusters(emr) == []


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ("2026-11-22T14:00+25:99", "has offset +25:99, not a UTC offset (hours 00-23, minutes 00-59)"),
        ("2026-11-22T14:00:00Z".translate(DEVANAGARI), "is not an ISO 8601 time like 2026-11-22T14:00:00Z"),
        ("0001-01-01T00:00+01:00", "is out of range: in UTC it falls outside years 1-9999"),
        ("0001-01-01T00+01:00", "is not an ISO 8601 time like 2026-11-22T14:00:00Z"),
    ],
)
def test_malformed_or_out_of_range_time_is_named_and_starts_nothing(emr: Any, time: str, message: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        trigger({**EVENT, "time": time}, emr=emr, environ=ENV)

    assert str(caught.value) == f"event 'time' {time!r} {message}"
    assert emr.sent_requests == [] and _clusters(emr) == []


def test_missing_setting_is_named_and_creates_no_cluster(emr: Any) -> None:
    env = {k: v for k, v in ENV.items() if k != "JOB_CODE_URI"}
    with pytest.raises(TriggerConfigError, match=r"^environment variable JOB_CODE_URI is not set$"):
        trigger(EVENT, emr=emr, environ=env)

    assert _clusters(emr) == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EMR_CORE_CAPACITY", "two", "environment variable EMR_CORE_CAPACITY='two' is not an integer"),
        (
            "EMR_IDLE_TIMEOUT_SECONDS",
            "30",
            "environment variable EMR_IDLE_TIMEOUT_SECONDS='30': idle timeout 30 s is not between 60 s and 604800 s",
        ),
        (
            "EMR_CORE_CAPACITY",
            "-1",
            "environment variable EMR_CORE_CAPACITY='-1': core_capacity -1 is not between 0 (the primary node alone) "
            "and 64",
        ),
        ("EMR_SUBNET_IDS", " , ", "environment variable EMR_SUBNET_IDS lists nothing"),
        (
            "EMR_BACKFILL_CORE_CAPACITY",
            "0",
            "environment variable EMR_BACKFILL_CORE_CAPACITY=0 is not between 1 and 64",
        ),
        ("JOB_REGION", "Europe", "environment variable JOB_REGION='Europe' is not an AWS region"),
    ],
)
def test_bad_setting_is_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(TriggerConfigError) as caught:
        TriggerConfig.from_env({**ENV, name: value})
    assert str(caught.value) == message


def test_lambda_handler_reads_its_environment(emr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    result = handler_module.handler(EVENT, None)

    assert result["status"] == "started"
    assert [c["Name"] for c in _clusters(emr)] == ["flight-kpis-2026-11-22T14"]


BACKFILL = {"backfill": {"from": "2026-11-01T00", "to": "2026-11-30T22"}}


def test_backfill_event_starts_one_cluster_for_the_range_with_backfill_core_nodes(emr: Any) -> None:
    result = trigger(BACKFILL, emr=emr, environ=ENV)

    (request,) = emr.sent_requests
    # Written out by hand: the scheduled cluster's request (one node by default), except for these five things.
    assert request["Instances"]["InstanceFleets"][1:] == [
        {
            "Name": "core",
            "InstanceFleetType": "CORE",
            "TargetOnDemandCapacity": 0,
            "TargetSpotCapacity": 6,  # EMR_BACKFILL_CORE_CAPACITY
            "InstanceTypeConfigs": _fleet_types("m7g.xlarge"),
            "LaunchSpecifications": SPOT_THEN_ON_DEMAND,
        }
    ]
    assert request["Name"] == "flight-kpis-backfill-2026-11-01T00-2026-11-30T22"
    assert request["Tags"] == [
        {"Key": "project", "Value": "flight-kpis"},
        {"Key": "backfill-range", "Value": "2026-11-01T00/2026-11-30T22"},
        {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"},
    ]
    assert request["Steps"] == [
        {
            "Name": "flight-kpis backfill 2026-11-01T00..2026-11-30T22",
            "ActionOnFailure": "TERMINATE_CLUSTER",
            "HadoopJarStep": {
                "Jar": "command-runner.jar",
                "Args": [
                    "spark-submit",
                    "--deploy-mode",
                    "client",
                    "s3://assets/main.py",
                    "--code",
                    "s3://assets/etl.zip",
                    "--config",
                    "s3://assets/job_config.json",
                    "--backfill-from",
                    "2026-11-01T00",
                    "--backfill-to",
                    "2026-11-30T22",
                    "--data-root",
                    "s3://data-bucket",
                ],
            },
        }
    ]
    unchanged = {k: v for k, v in request.items() if k not in ("Name", "Tags", "Steps", "Instances")}
    assert unchanged == {k: v for k, v in EXPECTED_REQUEST.items() if k not in ("Name", "Tags", "Steps", "Instances")}
    assert request["Instances"]["InstanceFleets"][0] == EXPECTED_REQUEST["Instances"]["InstanceFleets"][0]
    assert {k: v for k, v in request["Instances"].items() if k != "InstanceFleets"} == {
        k: v for k, v in EXPECTED_REQUEST["Instances"].items() if k != "InstanceFleets"
    }
    assert result == {
        "status": "started",
        "backfill_from": "2026-11-01T00",
        "backfill_to": "2026-11-30T22",
        "from_raw": False,
        "cluster_id": result["cluster_id"],
    }
    assert [c["Name"] for c in _clusters(emr)] == ["flight-kpis-backfill-2026-11-01T00-2026-11-30T22"]


def test_backfill_from_raw_and_times_within_the_hour(emr: Any) -> None:
    event = {"backfill": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T05:59:59Z", "from_raw": True}}
    trigger(event, emr=emr, environ=ENV)

    args = emr.sent_requests[0]["Steps"][0]["HadoopJarStep"]["Args"]
    assert args[-7:] == [
        "--backfill-from",
        "2026-11-01T00",
        "--backfill-to",
        "2026-11-02T05",
        "--data-root",
        "s3://data-bucket",
        "--from-raw",
    ]


def test_second_backfill_of_an_active_range_starts_nothing_but_another_range_or_a_slot_does(emr: Any) -> None:
    first = trigger(BACKFILL, emr=emr, environ=ENV)
    again = trigger({"backfill": {**BACKFILL["backfill"], "from_raw": True}}, emr=emr, environ=ENV)
    other = trigger({"backfill": {"from": "2026-12-01T00", "to": "2026-12-31T22"}}, emr=emr, environ=ENV)
    slot = trigger({**EVENT, "time": "2026-11-01T00:00:00Z"}, emr=emr, environ=ENV)

    assert again["status"] == "already_running" and again["cluster_id"] == first["cluster_id"]
    assert other["status"] == "started" and slot["status"] == "started"
    assert len(emr.sent_requests) == 3
    assert sorted(c["Name"] for c in _clusters(emr)) == [
        "flight-kpis-2026-11-01T00",
        "flight-kpis-backfill-2026-11-01T00-2026-11-30T22",
        "flight-kpis-backfill-2026-12-01T00-2026-12-31T22",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026-11", 'backfill must be an object like {"from": "2026-11-01T00", "to": "2026-11-30T22"}, got str'),
        ({"from": "2026-11-01T00"}, "backfill has no 'to' slot"),
        ({}, "backfill has no 'from' and no 'to' slot"),
        ({"from": "2026-11-01T00", "to": "2026-11-30T22", "layer": "x"}, "backfill has unknown key(s) layer; known:"),
        ({"from": "2026-11-01", "to": "2026-11-30T22"}, "backfill 'from' '2026-11-01' is not a UTC hour like"),
        ({"from": "2026-11-01T00", "to": 2026}, "backfill 'to' must be a string like 2026-11-01T00, got 2026"),
        ({"from": "2026-02-30T00", "to": "2026-03-01T00"}, "backfill 'from' '2026-02-30T00' is not a real date"),
        ({"from": "2026-11-30T22", "to": "2026-11-01T00"}, "backfill range is empty: from 2026-11-30T22 is after to"),
        ({"from": "2026-01-01T00", "to": "2062-01-01T00"}, "spans more than 366 days: split it"),
        ({"from": "2026-11-01T00", "to": "2026-11-30T22", "from_raw": "yes"}, "'from_raw' must be true or false"),
        ({"from": "2026-11-01T00".translate(DEVANAGARI), "to": "2026-11-30T22"}, "is not a UTC hour like"),
        ({"from": "0001-01-01T00+01:00", "to": "2026-11-30T22"}, "'0001-01-01T00+01:00' is not a UTC hour like"),
        ({"from": "2026-11-01T00", "to": "2026-11-30T22+25:99"}, "'2026-11-30T22+25:99' is not a UTC hour like"),
    ],
)
def test_malformed_backfill_event_is_named_and_creates_no_cluster(emr: Any, body: Any, message: str) -> None:
    with pytest.raises(MalformedBackfillError) as caught:
        trigger({"backfill": body}, emr=emr, environ=ENV)

    assert message in str(caught.value) and len(str(caught.value).splitlines()) == 1
    assert isinstance(caught.value, MalformedEventError)  # the handler's callers treat both alike
    assert emr.sent_requests == [] and _clusters(emr) == []
