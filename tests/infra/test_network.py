"""An existing VPC's subnets are read at synth time: untagged, missing or foreign subnets stop it in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.config import InfraConfigError, PipelineConfig
from infra.network import check_subnet_tags

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
TAG = {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"}  # EMR Management Guide's tag, by hand


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def _network(ec2: Any, *, tagged: list[bool]) -> tuple[str, list[str]]:
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = []
    for index, with_tag in enumerate(tagged):
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.8.{index}.0/24")["Subnet"]["SubnetId"]
        tags = [TAG] if with_tag else [{"Key": "team", "Value": "data"}]
        ec2.create_tags(Resources=[subnet_id], Tags=tags)
        subnet_ids.append(subnet_id)
    return vpc_id, subnet_ids


def _config(vpc_id: str, subnet_ids: list[str], **more: str) -> PipelineConfig:
    return PipelineConfig.from_context({"vpc_id": vpc_id, "subnet_ids": ",".join(subnet_ids), **more})


def test_tagged_subnets_of_the_vpc_pass(ec2: Any) -> None:
    vpc_id, subnets = _network(ec2, tagged=[True, True])

    check_subnet_tags(_config(vpc_id, subnets), region=REGION)  # raises nothing


def test_an_untagged_subnet_is_named_with_the_command_that_tags_it(ec2: Any) -> None:
    vpc_id, (tagged, untagged) = _network(ec2, tagged=[True, False])

    with pytest.raises(InfraConfigError) as caught:
        check_subnet_tags(_config(vpc_id, [tagged, untagged]), region=REGION)

    assert str(caught.value) == (
        f"subnets {untagged} lack the tag for-use-with-amazon-emr-managed-policies=true that EMR's service role "
        f"needs to launch there; tag them: aws ec2 create-tags --resources {untagged} "
        "--tags Key=for-use-with-amazon-emr-managed-policies,Value=true"
    )


def test_a_tag_with_another_value_does_not_count(ec2: Any) -> None:
    vpc_id, (subnet,) = _network(ec2, tagged=[False])
    ec2.create_tags(Resources=[subnet], Tags=[{"Key": TAG["Key"], "Value": "false"}])

    with pytest.raises(InfraConfigError, match=f"subnets {subnet} lack the tag"):
        check_subnet_tags(_config(vpc_id, [subnet]), region=REGION)


def test_a_subnet_of_another_vpc_is_refused(ec2: Any) -> None:
    vpc_id, _ = _network(ec2, tagged=[])
    other_vpc, (subnet,) = _network(ec2, tagged=[True])

    with pytest.raises(InfraConfigError) as caught:
        check_subnet_tags(_config(vpc_id, [subnet]), region=REGION)

    assert str(caught.value) == f"subnet_ids must be subnets of vpc_id {vpc_id}: {subnet} is in {other_vpc}"


def test_a_subnet_that_does_not_exist_is_refused(ec2: Any) -> None:
    vpc_id, _ = _network(ec2, tagged=[])

    with pytest.raises(InfraConfigError, match=r"^subnet_ids: .*subnet-0123456789abcdef0"):
        check_subnet_tags(_config(vpc_id, ["subnet-0123456789abcdef0"]), region=REGION)


def test_the_check_can_be_switched_off_and_is_skipped_without_an_existing_vpc(ec2: Any) -> None:
    vpc_id, subnets = _network(ec2, tagged=[False])

    check_subnet_tags(_config(vpc_id, subnets, check_subnet_tags="false"), region=REGION)
    check_subnet_tags(PipelineConfig(), region=REGION)
    with pytest.raises(InfraConfigError, match="check_subnet_tags must be true or false, got 'no'"):
        _config(vpc_id, subnets, check_subnet_tags="no")


def test_the_app_checks_the_subnets_before_building_the_stack(ec2: Any) -> None:
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context

    vpc_id, (subnet,) = _network(ec2, tagged=[False])
    app = cdk.App(context=cdk_json_context(vpc_id=vpc_id, subnet_ids=subnet))

    with pytest.raises(InfraConfigError, match=f"^subnets {subnet} lack the tag"):
        build_app(app)


def test_a_synth_without_credentials_says_how_to_go_on(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata lookup: nothing leaves the machine
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_DEFAULT_REGION=REGION,
        CDK_CONTEXT_JSON=json.dumps({"vpc_id": "vpc-0abc", "subnet_ids": "subnet-0aa,subnet-0bb"}),
        CDK_OUTDIR=str(tmp_path / "out"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "infra.app"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 2  # the one line closes stderr (Node may print its own notice first)
    assert done.stderr.strip().splitlines()[-1] == (
        "error: cdk context: cannot read subnet_ids to check their EMR tag (Unable to locate credentials); "
        "synthesize with credentials for the account and region (ec2:DescribeSubnets), or tag them "
        "(docs/deploy.md, first deploy item 3) and -c check_subnet_tags=false skips this check"
    )
