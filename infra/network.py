"""The synth-time check of an existing VPC's subnets: the EMR service role launches only into tagged ones.

`AmazonEMRServicePolicy_v2` creates instances, fleets, volumes and launch templates only in subnets carrying the
tag `for-use-with-amazon-emr-managed-policies=true` (its `CreateInTaggedNetwork` statement; EMR Management Guide,
"Service role for Amazon EMR (EMR role)" and "Tagging resources to use managed policies"). CloudFormation cannot tag
subnets it does not own, so with `vpc_id`/`subnet_ids` the synth reads them with the deploying credentials (EC2
`DescribeSubnets`) and refuses, in one line, subnets that are untagged, missing or in another VPC: otherwise the
first cluster would fail two hours after the deploy with `VALIDATION_ERROR: ... insufficient EC2 permissions`.
`-c check_subnet_tags=false` skips the check (a synth without credentials for the account).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import InfraConfigError, PipelineConfig
from lambda_trigger.cluster_request import EMR_MANAGED_TAG

_SKIP = "-c check_subnet_tags=false skips this check"


def check_subnet_tags(config: PipelineConfig, *, region: str | None = None, ec2: Any = None) -> None:
    """Raise InfraConfigError unless every subnet of `subnet_ids` is in `vpc_id` and carries the EMR tag."""
    if not config.vpc_id or not config.check_subnet_tags:
        return
    try:
        ec2 = ec2 or boto3.client("ec2", region_name=region)
        subnets = ec2.describe_subnets(SubnetIds=list(config.subnet_ids))["Subnets"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "InvalidSubnetID.NotFound":
            raise InfraConfigError(f"subnet_ids: {error.get('Message', 'a subnet does not exist')}") from None
        raise InfraConfigError(_unreadable(f"{error.get('Code')}: {error.get('Message')}")) from None
    except BotoCoreError as exc:  # no credentials, no region, no endpoint
        raise InfraConfigError(_unreadable(str(exc))) from None
    found = {subnet["SubnetId"]: subnet for subnet in subnets}
    missing = [subnet_id for subnet_id in config.subnet_ids if subnet_id not in found]
    if missing:
        raise InfraConfigError(f"subnet_ids: {', '.join(missing)} not found in the account's region")
    elsewhere = [f"{sid} is in {s['VpcId']}" for sid, s in found.items() if s.get("VpcId") != config.vpc_id]
    if elsewhere:
        raise InfraConfigError(f"subnet_ids must be subnets of vpc_id {config.vpc_id}: {'; '.join(elsewhere)}")
    untagged = [sid for sid in config.subnet_ids if not _tagged(found[sid])]
    if untagged:
        key, value = EMR_MANAGED_TAG["Key"], EMR_MANAGED_TAG["Value"]
        raise InfraConfigError(
            f"subnets {', '.join(untagged)} lack the tag {key}={value} that EMR's service role needs to launch "
            f"there; tag them: aws ec2 create-tags --resources {' '.join(untagged)} --tags Key={key},Value={value}"
        )


def _tagged(subnet: dict[str, Any]) -> bool:
    return any(
        tag.get("Key") == EMR_MANAGED_TAG["Key"] and tag.get("Value") == EMR_MANAGED_TAG["Value"]
        for tag in subnet.get("Tags", [])
    )


def _unreadable(reason: str) -> str:
    return (
        f"cannot read subnet_ids to check their EMR tag ({reason}); synthesize with credentials for the account "
        f"and region (ec2:DescribeSubnets), or tag them (docs/deploy.md, first deploy item 3) and {_SKIP}"
    )
