"""Deploy smoke test: the synthesized template and its assets, deployed with CloudFormation on a local moto server.

Known moto limits (moto 5.2): its CloudFormation skips resource types it does not implement, among them the
Glue database and tables, the Athena workgroup and named queries, and any QuickSight resource (the test deploys
without the dashboard); it does not start EMR clusters or run Lambda code. A Lambda-backed custom resource
(such as BucketDeployment's) would never answer without Docker and leave the stack CREATE_IN_PROGRESS: the stack
has none, its code travels as plain file assets, which this test publishes as `cdk deploy` would. Last, moto reads
the tags of an AWS::KMS::Key in the API's TagKey/TagValue form instead of CloudFormation's Key/Value and fails on
them, so this test drops the two keys' tags (and nothing else) before deploying.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.infra.conftest import Synthesized

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's default account
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free loopback port, stopped after the module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Any:
    """boto3 clients pointed at the moto server, with fake credentials."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return lambda service: session.client(service, endpoint_url=moto_endpoint)


def _publish_file_assets(aws: Any, synthesized: Synthesized, work: Path) -> int:
    """What `cdk deploy` does first: upload every file asset of the asset manifest to the bootstrap bucket."""
    manifest = json.loads((synthesized.outdir / f"{synthesized.stack_name}.assets.json").read_text())
    s3 = aws("s3")
    published = 0
    for asset_id, asset in manifest["files"].items():
        source = synthesized.outdir / asset["source"]["path"]
        if asset["source"].get("packaging") == "zip":
            source = Path(shutil.make_archive(str(work / asset_id), "zip", root_dir=source))
        for destination in asset["destinations"].values():
            bucket = destination["bucketName"].replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", REGION)
            if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=source.read_bytes())
            published += 1
    return published


def _moto_compatible(template: dict[str, Any]) -> dict[str, Any]:
    """The template minus what moto mis-parses (see the module docstring): KMS key tags."""
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"].pop("Tags", None)
    return template


@pytest.fixture(scope="module")
def deployed(aws: Any, synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Bootstrap marker, assets, then CloudFormation create_stack until it settles."""
    aws("ssm").put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
    published = _publish_file_assets(aws, synthesized, tmp_path_factory.mktemp("assets"))
    cloudformation = aws("cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns once per resource type it skips (see the module docstring)
        cloudformation.create_stack(
            StackName=synthesized.stack_name,
            TemplateBody=json.dumps(_moto_compatible(synthesized.template)),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
    deadline = time.monotonic() + 120  # moto creates synchronously; the loop only guards against a stuck stack
    while True:
        stack = cloudformation.describe_stacks(StackName=synthesized.stack_name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(1)
    resources = cloudformation.list_stack_resources(StackName=synthesized.stack_name)["StackResourceSummaries"]
    return {"stack": stack, "resources": resources, "published": published}


def _physical_ids(deployed: dict[str, Any], resource_type: str) -> list[str]:
    return [r["PhysicalResourceId"] for r in deployed["resources"] if r["ResourceType"] == resource_type]


def test_stack_reaches_create_complete(deployed: dict[str, Any]) -> None:
    assert deployed["stack"]["StackStatus"] == "CREATE_COMPLETE", deployed["stack"].get("StackStatusReason")
    # main.py, etl.zip, job config, bootstrap script, requirements, wheels, the Lambda code, and the template itself
    assert deployed["published"] == 8


def test_buckets_exist_encrypted(deployed: dict[str, Any], aws: Any) -> None:
    buckets = _physical_ids(deployed, "AWS::S3::Bucket")
    assert len(buckets) == 3
    s3 = aws("s3")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket in buckets:
        assert bucket in existing
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_emr_roles_and_instance_profile_exist(deployed: dict[str, Any], aws: Any) -> None:
    iam = aws("iam")
    roles = {r["RoleName"]: r for r in iam.list_roles()["Roles"]}
    trusted = sorted(
        json.dumps(roles[name]["AssumeRolePolicyDocument"]) for name in _physical_ids(deployed, "AWS::IAM::Role")
    )
    assert any("elasticmapreduce.amazonaws.com" in t for t in trusted)
    assert any("ec2.amazonaws.com" in t for t in trusted)
    assert any("lambda.amazonaws.com" in t for t in trusted)
    (profile,) = _physical_ids(deployed, "AWS::IAM::InstanceProfile")
    assert iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]


def test_trigger_function_is_deployed_with_its_environment(deployed: dict[str, Any], aws: Any) -> None:
    (name,) = _physical_ids(deployed, "AWS::Lambda::Function")
    function = aws("lambda").get_function(FunctionName=name)["Configuration"]
    env = function["Environment"]["Variables"]

    assert function["Handler"] == "lambda_trigger.handler.handler"
    assert env["EMR_RELEASE_LABEL"] == "emr-7.13.0"
    data_bucket = env["JOB_DATA_ROOT"].removeprefix("s3://")
    assert data_bucket in _physical_ids(deployed, "AWS::S3::Bucket")
    assert env["JOB_CODE_URI"].startswith(f"s3://cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/")
    bucket, key = env["JOB_CODE_URI"].removeprefix("s3://").split("/", 1)
    assert aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()[:2] == b"PK"  # the published etl.zip


def test_schedule_rule_targets_the_trigger(deployed: dict[str, Any], aws: Any) -> None:
    events = aws("events")
    rules = [events.describe_rule(Name=n.split("|")[-1]) for n in _physical_ids(deployed, "AWS::Events::Rule")]
    scheduled = [r for r in rules if r.get("ScheduleExpression")]
    assert [r["ScheduleExpression"] for r in scheduled] == ["rate(2 hours)"]
    (target,) = events.list_targets_by_rule(Rule=scheduled[0]["Name"])["Targets"]
    (function,) = _physical_ids(deployed, "AWS::Lambda::Function")
    assert target["Arn"].endswith(f":function:{function}")
