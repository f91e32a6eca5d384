"""The trigger's environment, named once: what the stack writes through environment_for is what from_env reads."""

from __future__ import annotations

import re

import pytest

from lambda_trigger.config import TriggerConfig, TriggerConfigError, environment_for

FIELDS = {
    "project": "flight-kpis",
    "release_label": "emr-7.13.0",
    "log_uri": "s3://logs-bucket/emr/",
    "service_role": "arn:aws:iam::123456789012:role/emr-service",
    "instance_profile": "emr-instance-profile",
    "security_configuration": "flight-kpis-at-rest",
    "subnet_ids": "subnet-aaa,subnet-bbb",
    "primary_security_group": "sg-primary",
    "core_security_group": "sg-core",
    "primary_instance_types": "m7g.xlarge,m6g.xlarge",
    "primary_market": "spot",
    "core_instance_types": "m7g.xlarge",
    "core_capacity": "2",
    "backfill_core_capacity": "6",
    "idle_timeout_s": "900",
    "main_uri": "s3://assets/main.py",
    "code_uri": "s3://assets/etl.zip",
    "job_config_uri": "s3://assets/job_config.json",
    "data_root": "s3://data-bucket",
    "bootstrap_uri": "s3://assets/bootstrap.sh",
    "requirements_uri": "s3://assets/requirements.txt",
    "wheels_uri": "s3://assets/wheels.zip",
    "region": "ap-southeast-2",
}


def test_environment_is_named_as_the_trigger_reads_it_and_reads_back_to_the_same_values() -> None:
    env = environment_for(FIELDS)
    config = TriggerConfig.from_env(env)

    assert env["EMR_SUBNET_IDS"] == "subnet-aaa,subnet-bbb"
    assert env["EMR_IDLE_TIMEOUT_SECONDS"] == "900"
    assert env["BOOTSTRAP_WHEELS_URI"] == "s3://assets/wheels.zip"
    assert "EMR_SERVICE_ACCESS_SECURITY_GROUP" not in env  # optional, and not given
    assert config.subnet_ids == ("subnet-aaa", "subnet-bbb")
    assert (config.primary_market, config.core_capacity, config.idle_timeout_s) == ("spot", 2, 900)
    assert config.wheels_uri == "s3://assets/wheels.zip"
    assert config.service_access_security_group is None
    assert (env["JOB_REGION"], config.region) == ("ap-southeast-2", "ap-southeast-2")


def test_the_optional_service_access_group_is_carried_when_given() -> None:
    env = environment_for({**FIELDS, "service_access_security_group": "sg-service"})

    assert env["EMR_SERVICE_ACCESS_SECURITY_GROUP"] == "sg-service"
    assert TriggerConfig.from_env(env).service_access_security_group == "sg-service"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subnets": "subnet-aaa"}, "trigger environment: unknown field(s) subnets"),
        ({"wheels_uri": None}, "trigger environment: no value for wheels_uri"),
    ],
)
def test_an_unknown_or_missing_field_is_refused_naming_it(change: dict, message: str) -> None:
    fields = {name: value for name, value in {**FIELDS, **change}.items() if value is not None}

    with pytest.raises(TriggerConfigError, match=f"^{re.escape(message)}$"):
        environment_for(fields)
