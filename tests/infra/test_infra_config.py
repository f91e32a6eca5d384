"""The deployment config: documented defaults, context from cdk.json or the command line, clear errors."""

from __future__ import annotations

import pytest

from infra.config import InfraConfigError, PipelineConfig
from lambda_trigger.config import TriggerConfig, TriggerConfigError


def test_defaults_are_the_documented_ones() -> None:
    config = PipelineConfig.from_context({})

    assert config.schedule == "rate(2 hours)"
    assert config.emr_release == "emr-7.13.0"
    assert config.raw_retention_days == 3
    assert config.athena_bytes_scanned_cutoff == 10_737_418_240
    assert config.database_name == "flight_kpis"
    assert config.quicksight_principal_arn is None and config.alarm_email is None and config.vpc_id is None
    # One on-demand node: no core fleet unless asked for.
    assert config.core_capacity == 0 and config.primary_market == "on-demand"


def test_cdk_json_sets_only_keys_the_app_reads() -> None:
    from infra.app import cdk_json_context

    config = PipelineConfig.from_context(cdk_json_context())

    assert config.core_capacity == 0 and config.primary_market == "on-demand"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("core_capacity_units", "core_capacity_units is not a context key of this app (did you mean core_capacity?)"),
        ("spot", "spot is not a context key of this app; infra/config.py lists them"),
    ],
)
def test_unknown_context_key_is_refused_by_name(key: str, message: str) -> None:
    with pytest.raises(InfraConfigError) as caught:
        PipelineConfig.from_context({"schedule": "rate(2 hours)", key: 4})
    assert str(caught.value).startswith(message)


def test_cdk_own_context_keys_are_left_to_cdk() -> None:
    context = {
        "@aws-cdk/core:checkSecretUsage": True,
        "aws:cdk:enable-path-metadata": True,
        "availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [32775],
    }
    assert PipelineConfig.from_context(context) == PipelineConfig()


def test_whole_number_given_as_a_json_float_is_taken() -> None:
    assert PipelineConfig.from_context({"core_capacity": 3.0}).core_capacity == 3


def test_command_line_text_is_coerced_and_empty_means_default() -> None:
    context = {
        "raw_retention_days": "7",
        "core_capacity": 4,
        "core_instance_types": "r7g.2xlarge, m7g.2xlarge",
        "primary_instance_types": ["m7g.large"],
        "alarm_email": "",
        "vpc_id": "vpc-0abc",
        "subnet_ids": "subnet-01,subnet-02",
        "schedule": "cron(0 */2 * * ? *)",
    }
    config = PipelineConfig.from_context(context)

    assert config.raw_retention_days == 7 and config.core_capacity == 4
    assert config.core_instance_types == ("r7g.2xlarge", "m7g.2xlarge")
    assert config.primary_instance_types == ("m7g.large",)
    assert config.alarm_email is None
    assert config.subnet_ids == ("subnet-01", "subnet-02")
    assert config.schedule == "cron(0 */2 * * ? *)"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"schedule": "every 2 hours"}, "schedule 'every 2 hours' is not rate(N unit) or cron(6 fields)"),
        ({"emr_release": "emr-6.15.0"}, "emr_release 'emr-6.15.0' is not emr-7.x.y or later (needs python3.11)"),
        (
            {"core_instance_types": "m5.xlarge"},
            "instance type 'm5.xlarge' is not a Graviton (arm64) type such as m7g.xlarge",
        ),
        ({"raw_retention_days": "three"}, "raw_retention_days must be a whole number, got 'three'"),
        ({"raw_retention_days": 0}, "raw_retention_days must be between 1 and 3650"),
        ({"alarm_email": "ops"}, "alarm_email 'ops' is not an e-mail address"),
        ({"vpc_id": "vpc-0abc"}, "vpc_id and subnet_ids go together: give both or none"),
        ({"job_source": "snapshot"}, "job_source 'snapshot' is not one of demo, flightradarapi, fr24api, live"),
        (
            {"quicksight_principal_arn": "alice"},
            "quicksight_principal_arn 'alice' is not a QuickSight user or group ARN",
        ),
        ({"athena_bytes_scanned_cutoff": 1000}, "athena_bytes_scanned_cutoff must be between 10 MiB and 7 PiB (bytes)"),
        ({"log_retention_days": 10}, "log_retention_days must be one of"),
        ({"core_capacity": 65}, "core_capacity 65 is not between 0 (the primary node alone) and 64"),
        ({"primary_market": "reserved"}, "primary_market 'reserved' is not one of on-demand, spot"),
        ({"idle_timeout_minutes": 0}, "idle timeout 0 s is not between 60 s and 604800 s"),
    ],
)
def test_bad_value_is_named(context: dict[str, object], message: str) -> None:
    with pytest.raises(InfraConfigError) as caught:
        PipelineConfig.from_context(context)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "given",
    [
        "airline_name=0.6, route_distance=0",
        '{"airline_name": 0.6, "route_distance": 0}',
        {"airline_name": "0.6", "route_distance": 0},
    ],
)
def test_coverage_floors_from_the_command_line_or_cdk_json(given: object) -> None:
    config = PipelineConfig.from_context({"coverage_floors": given})

    assert config.coverage_floors == {"airline_name": 0.6, "route_distance": 0.0}
    floors = config.quality_settings().floors()
    assert (floors["airline_name"], floors["route_distance"], floors["aircraft_model"]) == (0.6, 0.0, 0.9)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("airline=0.6", "coverage_floors: quality: unknown coverage floor(s) airline; known: origin_airport,"),
        ("airline_name=high", "coverage_floors: floor airline_name='high' is not a number"),
        ("airline_name", "coverage_floors must be mapping=floor pairs, e.g. airline_name=0.7, got 'airline_name'"),
        ({"airline_name": 1.5}, "coverage_floors: quality: coverage floor airline_name must be in [0, 1]"),
        ("{airline_name: 1}", "coverage_floors is not a JSON object: '{airline_name: 1}'"),
    ],
)
def test_bad_coverage_floors_are_named_at_synth(given: object, message: str) -> None:
    with pytest.raises(InfraConfigError) as caught:
        PipelineConfig.from_context({"coverage_floors": given})
    assert str(caught.value).startswith(message)


def test_backfill_core_capacity_defaults_to_four_and_is_bounded() -> None:
    assert PipelineConfig.from_context({}).backfill_core_capacity == 4
    assert PipelineConfig.from_context({"backfill_core_capacity": "16"}).backfill_core_capacity == 16
    with pytest.raises(InfraConfigError, match=r"^backfill_core_capacity 0 is not between 1 and 64$"):
        PipelineConfig.from_context({"backfill_core_capacity": 0})


LAMBDA_ENV = {
    "PROJECT": "flight-kpis",
    "EMR_RELEASE_LABEL": "emr-7.13.0",
    "EMR_LOG_URI": "s3://logs/emr/",
    "EMR_SERVICE_ROLE": "arn:aws:iam::123456789012:role/emr-service",
    "EMR_INSTANCE_PROFILE": "profile",
    "EMR_SECURITY_CONFIGURATION": "at-rest",
    "EMR_SUBNET_IDS": "subnet-aaa",
    "EMR_PRIMARY_SECURITY_GROUP": "sg-primary",
    "EMR_CORE_SECURITY_GROUP": "sg-core",
    "EMR_PRIMARY_INSTANCE_TYPES": "m7g.xlarge",
    "EMR_PRIMARY_MARKET": "on-demand",
    "EMR_CORE_INSTANCE_TYPES": "m7g.xlarge",
    "EMR_CORE_CAPACITY": "0",
    "EMR_IDLE_TIMEOUT_SECONDS": "1800",
    "JOB_MAIN_URI": "s3://a/main.py",
    "JOB_CODE_URI": "s3://a/etl.zip",
    "JOB_CONFIG_URI": "s3://a/job.json",
    "JOB_DATA_ROOT": "s3://data",
    "BOOTSTRAP_SCRIPT_URI": "s3://a/bootstrap.sh",
    "BOOTSTRAP_REQUIREMENTS_URI": "s3://a/requirements.txt",
    "BOOTSTRAP_WHEELS_URI": "s3://a/wheels.zip",
    "EMR_BACKFILL_CORE_CAPACITY": "4",
    "JOB_REGION": "us-east-1",
}


@pytest.mark.parametrize(
    ("context", "variable", "value", "reason"),
    [
        (
            {"core_capacity": 65},
            "EMR_CORE_CAPACITY",
            "65",
            "core_capacity 65 is not between 0 (the primary node alone) and 64",
        ),
        ({"core_capacity": 64}, "EMR_CORE_CAPACITY", "64", None),
        ({"primary_market": "spot"}, "EMR_PRIMARY_MARKET", "spot", None),
        (
            {"primary_market": "Spot"},
            "EMR_PRIMARY_MARKET",
            "Spot",
            "primary_market 'Spot' is not one of on-demand, spot",
        ),
        (
            {"primary_instance_types": "m5.xlarge"},
            "EMR_PRIMARY_INSTANCE_TYPES",
            "m5.xlarge",
            "instance type 'm5.xlarge' is not a Graviton (arm64) type such as m7g.xlarge",
        ),
    ],
)
def test_stack_and_trigger_accept_and_refuse_the_same_shapes(
    context: dict[str, object], variable: str, value: str, reason: str | None
) -> None:
    """The limits live in lambda_trigger/config.py: the deployment and the trigger cannot disagree on them."""
    if reason is None:
        PipelineConfig.from_context(context)
        TriggerConfig.from_env({**LAMBDA_ENV, variable: value})
        return
    with pytest.raises(InfraConfigError) as at_synth:
        PipelineConfig.from_context(context)
    with pytest.raises(TriggerConfigError) as at_run:
        TriggerConfig.from_env({**LAMBDA_ENV, variable: value})
    assert str(at_synth.value) == reason
    assert str(at_run.value) == f"environment variable {variable}={value!r}: {reason}"
