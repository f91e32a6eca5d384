"""The deployment config: documented defaults, context from cdk.json or the command line, clear errors."""

from __future__ import annotations

import pytest

from infra.config import InfraConfigError, PipelineConfig


def test_defaults_are_the_documented_ones() -> None:
    config = PipelineConfig.from_context({}.get)

    assert config.schedule == "rate(2 hours)"
    assert config.emr_release == "emr-7.13.0"
    assert config.raw_retention_days == 3
    assert config.athena_bytes_scanned_cutoff == 10_737_418_240
    assert config.database_name == "flight_kpis"
    assert config.quicksight_principal_arn is None and config.alarm_email is None and config.vpc_id is None


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
    config = PipelineConfig.from_context(context.get)

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
        ({"job_source": "snapshot"}, "job_source 'snapshot' is not live or demo"),
        (
            {"quicksight_principal_arn": "alice"},
            "quicksight_principal_arn 'alice' is not a QuickSight user or group ARN",
        ),
        ({"athena_bytes_scanned_cutoff": 1000}, "athena_bytes_scanned_cutoff must be between 10 MiB and 7 PiB (bytes)"),
        ({"log_retention_days": 10}, "log_retention_days must be one of"),
    ],
)
def test_bad_value_is_named(context: dict[str, object], message: str) -> None:
    with pytest.raises(InfraConfigError) as caught:
        PipelineConfig.from_context(context.get)
    assert str(caught.value).startswith(message)


def test_backfill_core_capacity_defaults_to_four_and_is_bounded() -> None:
    assert PipelineConfig.from_context({}.get).backfill_core_capacity == 4
    assert PipelineConfig.from_context({"backfill_core_capacity": "16"}.get).backfill_core_capacity == 16
    with pytest.raises(InfraConfigError, match=r"^backfill_core_capacity 0 is not between 1 and 64$"):
        PipelineConfig.from_context({"backfill_core_capacity": 0}.get)
