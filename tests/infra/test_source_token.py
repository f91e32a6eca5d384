"""The official API's token on AWS: an empty secret only when a source needs it, readable by the cluster alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import InfraConfigError, PipelineConfig
from tests.infra.conftest import Synthesized, synthesize

SECRET_NAME = "flight-kpis/fr24api-token"


@pytest.fixture(scope="module")
def with_fr24api(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk_out_fr24api"), source="fr24api")


def _job_config(synthesized: Synthesized) -> dict[str, Any]:
    (function,) = synthesized.resources("AWS::Lambda::Function").values()
    key = function["Properties"]["Environment"]["Variables"]["JOB_CONFIG_URI"]["Fn::Sub"].rsplit("/", 1)[1]
    (asset,) = synthesized.outdir.glob(f"asset.{key}")
    return json.loads(asset.read_text())


def _instance_role_id(synthesized: Synthesized) -> str:
    (role_id,) = [k for k in synthesized.resources("AWS::IAM::Role") if "InstanceRole" in k]
    return role_id


def test_no_secret_without_the_official_api(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::SecretsManager::Secret") == {}
    assert "secretsmanager" not in json.dumps(synthesized.template)


def test_source_fr24api_creates_one_empty_secret_named_for_the_job(with_fr24api: Synthesized) -> None:
    ((logical_id, secret),) = with_fr24api.resources("AWS::SecretsManager::Secret").items()
    assert secret["Properties"]["Name"] == SECRET_NAME
    assert "SecretString" not in secret["Properties"] and "GenerateSecretString" not in secret["Properties"]
    assert secret["DeletionPolicy"] == "Retain"
    assert {k: v for k, v in _job_config(with_fr24api).items() if k not in ("lake", "quality")} == {
        "alerts_topic": "flight-kpis-alarms",
        "fr24api_token_secret": SECRET_NAME,
        "metrics_namespace": "FlightKpis",
        "source": "fr24api",
    }  # the lake and quality sections are test_stack.py's
    assert logical_id.startswith("Fr24ApiToken")


def test_only_the_cluster_role_may_read_the_secret(with_fr24api: Synthesized) -> None:
    (secret_id,) = with_fr24api.resources("AWS::SecretsManager::Secret")
    role_id = _instance_role_id(with_fr24api)
    readers = []
    for policy in with_fr24api.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager" in json.dumps(statement["Action"]):
                readers.append(([r["Ref"] for r in policy["Properties"]["Roles"]], statement))
    assert readers == [
        (
            [role_id],
            {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": {"Ref": secret_id},
             "Sid": "ReadFr24ApiToken"},
        )
    ]  # fmt: skip
    (resource_policy,) = with_fr24api.resources("AWS::SecretsManager::ResourcePolicy").values()
    assert resource_policy["Properties"]["SecretId"] == {"Ref": secret_id}
    assert resource_policy["Properties"]["BlockPublicPolicy"] is True
    assert resource_policy["Properties"]["ResourcePolicy"]["Statement"] == [
        {
            "Sid": "OnlyTheClusterRoleReads",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [role_id, "Arn"]}}},
        }
    ]


def test_the_secret_passes_cdk_nag_with_its_reason(with_fr24api: Synthesized) -> None:
    report = with_fr24api.nag_report
    assert report["violations"] == []
    rotation = [f for f in report["suppressedViolations"] if f["ruleName"] == "AwsSolutions-SMG4"]
    assert len(rotation) == 1 and "Flightradar24" in rotation[0]["reason"]


def test_sources_with_the_official_api_second_also_get_the_secret() -> None:
    config = PipelineConfig.from_context({"job_source": "live", "sources": "flightradarapi,fr24api"})
    assert config.source_order == ("flightradarapi", "fr24api")
    assert config.token_secrets == {"fr24api": SECRET_NAME}
    assert PipelineConfig.from_context({"job_source": "live"}).token_secrets == {}
    with pytest.raises(InfraConfigError, match="job_sources 'live,radar' must name distinct sources"):
        PipelineConfig.from_context({"sources": "live,radar"})
