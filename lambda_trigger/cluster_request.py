"""The transient cluster of one run slot (or of a backfill range), as a pure `RunJobFlow` request."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lambda_trigger.backfill_range import BackfillRange
from lambda_trigger.config import TriggerConfig

PYTHON = "/usr/bin/python3.11"  # FlightRadarAPI needs Python >= 3.10; emr-7 ships 3.9 as default and 3.11 beside it
SLOT_TAG = "run-slot"
PROJECT_TAG = "project"
# AmazonEMRServicePolicy_v2 creates instances, fleets, volumes and launch templates only for requests carrying this
# tag; EMR propagates it to what it creates (EMR Management Guide, "Service role for Amazon EMR (EMR role)": pass
# the tag when provisioning the cluster).
EMR_MANAGED_TAG = {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"}
# Iceberg as the release ships it (EMR Release Guide, "Use an Iceberg cluster with Spark"); the job sets its `lake`
# catalog itself at run time from its config (etl/publication/lake.py catalog_settings), so no catalog setting is
# made here.
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
EBS_GIB = 64  # Graviton general-purpose types are EBS-only; room for Spark shuffle and logs
SPOT_TIMEOUT_MINUTES = 10  # then a fleet is filled on demand rather than waiting on Spot
SPOT = {
    "TimeoutDurationMinutes": SPOT_TIMEOUT_MINUTES,
    "TimeoutAction": "SWITCH_TO_ON_DEMAND",
    "AllocationStrategy": "price-capacity-optimized",
}
ON_DEMAND = {"AllocationStrategy": "lowest-price"}


def cluster_name(config: TriggerConfig, run_slot: str) -> str:
    """`<project>-<slot>`: the name the duplicate guard and the failure rules look for."""
    return f"{config.project}-{run_slot}"


def _instance_types(types: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "InstanceType": instance_type,
            "WeightedCapacity": 1,
            "EbsConfiguration": {
                "EbsBlockDeviceConfigs": [
                    {"VolumeSpecification": {"VolumeType": "gp3", "SizeInGB": EBS_GIB}, "VolumesPerInstance": 1}
                ],
                "EbsOptimized": True,
            },
        }
        for instance_type in types
    ]


def step_args(config: TriggerConfig, run_slot: str) -> list[str]:
    """The spark-submit command of the step: the entry script, the code, the config and the slot."""
    return [
        "spark-submit",
        "--deploy-mode",
        "client",  # the driver, which also fetches the feed, runs on the primary node, never on a core Spot node
        config.main_uri,
        "--code",
        config.code_uri,
        "--config",
        config.job_config_uri,
        "--run-slot",
        run_slot,
        "--data-root",
        config.data_root,
    ]


def instance_fleets(config: TriggerConfig) -> list[dict[str, Any]]:
    """The primary fleet (Spot when `primary_market` says so, else on demand), and a core fleet only if asked for.

    A snapshot of tens of thousands of rows takes seconds on one node: by default the primary node runs the
    driver and the executors alone (EMR's single-node cluster). `core_capacity` adds Spot core nodes, switching to
    on demand when Spot does not come, for large loads such as a backfill.
    """
    spot_primary = config.primary_market == "spot"
    primary_launch: dict[str, Any] = {"OnDemandSpecification": {**ON_DEMAND}}
    if spot_primary:
        primary_launch = {"SpotSpecification": {**SPOT}, "OnDemandSpecification": {**ON_DEMAND}}
    fleets = [
        {
            "Name": "primary",
            "InstanceFleetType": "MASTER",
            "TargetOnDemandCapacity": 0 if spot_primary else 1,
            "TargetSpotCapacity": 1 if spot_primary else 0,
            "InstanceTypeConfigs": _instance_types(config.primary_instance_types),
            "LaunchSpecifications": primary_launch,
        }
    ]
    if config.core_capacity > 0:
        fleets.append(
            {
                "Name": "core",
                "InstanceFleetType": "CORE",
                "TargetOnDemandCapacity": 0,
                "TargetSpotCapacity": config.core_capacity,
                "InstanceTypeConfigs": _instance_types(config.core_instance_types),
                "LaunchSpecifications": {"SpotSpecification": {**SPOT}, "OnDemandSpecification": {**ON_DEMAND}},
            }
        )
    return fleets


def configurations(config: TriggerConfig) -> list[dict[str, Any]]:
    """The cluster's configuration classifications: the job's Python and region, and Iceberg."""
    # botocore does not read the region from instance metadata: the job's CloudWatch, SNS and Secrets Manager
    # clients take it from these variables, in the driver (spark-env) and in YARN's containers (yarn-env).
    region = {"AWS_REGION": config.region, "AWS_DEFAULT_REGION": config.region}
    return [
        {
            "Classification": "spark-env",
            "Configurations": [{"Classification": "export", "Properties": {"PYSPARK_PYTHON": PYTHON, **region}}],
            "Properties": {},
        },
        {
            "Classification": "yarn-env",
            "Configurations": [{"Classification": "export", "Properties": {**region}}],
            "Properties": {},
        },
        {"Classification": "spark-defaults", "Properties": {"spark.sql.extensions": ICEBERG_EXTENSIONS}},
        {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}},
    ]


def build_run_job_flow_request(config: TriggerConfig, run_slot: str) -> dict[str, Any]:
    """The complete `RunJobFlow` request for one run slot (no I/O)."""
    instances: dict[str, Any] = {
        "InstanceFleets": instance_fleets(config),
        "Ec2SubnetIds": list(config.subnet_ids),
        "EmrManagedMasterSecurityGroup": config.primary_security_group,
        "EmrManagedSlaveSecurityGroup": config.core_security_group,
        "KeepJobFlowAliveWhenNoSteps": False,
        "TerminationProtected": False,
    }
    if config.service_access_security_group:
        instances["ServiceAccessSecurityGroup"] = config.service_access_security_group
    return {
        "Name": cluster_name(config, run_slot),
        "ReleaseLabel": config.release_label,
        "LogUri": config.log_uri,
        "Applications": [{"Name": "Spark"}],
        "ServiceRole": config.service_role,
        "JobFlowRole": config.instance_profile,
        "SecurityConfiguration": config.security_configuration,
        "VisibleToAllUsers": True,
        "Instances": instances,
        # A safety net only: with KeepJobFlowAliveWhenNoSteps=False the cluster ends with its step.
        "AutoTerminationPolicy": {"IdleTimeout": config.idle_timeout_s},
        "BootstrapActions": [
            {
                "Name": "install-job-dependencies",
                "ScriptBootstrapAction": {
                    "Path": config.bootstrap_uri,
                    "Args": [config.requirements_uri, config.wheels_uri, PYTHON],
                },
            }
        ],
        "Configurations": configurations(config),
        "Steps": [
            {
                "Name": f"{config.project} {run_slot}",
                "ActionOnFailure": "TERMINATE_CLUSTER",
                "HadoopJarStep": {"Jar": "command-runner.jar", "Args": step_args(config, run_slot)},
            }
        ],
        "Tags": [
            {"Key": PROJECT_TAG, "Value": config.project},
            {"Key": SLOT_TAG, "Value": run_slot},
            {**EMR_MANAGED_TAG},
        ],
    }


# A backfill: one cluster for a whole range of slots, with more core nodes, the same shape otherwise.
RANGE_TAG = "backfill-range"


def backfill_cluster_name(config: TriggerConfig, backfill: BackfillRange) -> str:
    """`<project>-backfill-<first>-<last>`: the name the backfill duplicate guard looks for."""
    return f"{config.project}-backfill-{backfill.first}-{backfill.last}"


def backfill_step_args(config: TriggerConfig, backfill: BackfillRange) -> list[str]:
    """The spark-submit command of a backfill step: the scheduled step's, with the range instead of one slot."""
    args = step_args(config, backfill.first)
    at = args.index("--run-slot")
    args[at : at + 2] = ["--backfill-from", backfill.first, "--backfill-to", backfill.last]
    return [*args, "--from-raw"] if backfill.from_raw else args


def build_backfill_request(config: TriggerConfig, backfill: BackfillRange) -> dict[str, Any]:
    """The complete `RunJobFlow` request of a backfill (no I/O): the scheduled cluster with backfill core nodes."""
    # The scheduled shape, with the backfill's core fleet (the schedule itself may run on the primary node alone).
    request = build_run_job_flow_request(replace(config, core_capacity=config.backfill_core_capacity), backfill.first)
    label = f"{backfill.first}..{backfill.last}"
    request["Name"] = backfill_cluster_name(config, backfill)
    request["Steps"][0]["Name"] = f"{config.project} backfill {label}"
    request["Steps"][0]["HadoopJarStep"]["Args"] = backfill_step_args(config, backfill)
    request["Tags"] = [
        {"Key": PROJECT_TAG, "Value": config.project},
        {"Key": RANGE_TAG, "Value": backfill.tag},
        {**EMR_MANAGED_TAG},
    ]
    return request
