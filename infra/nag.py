"""cdk-nag AwsSolutions findings that are acknowledged, each with the reason it is accepted."""

from __future__ import annotations

from typing import Any, Protocol

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from infra.constructs.catalog import ATHENA_RESULTS_PREFIX, OPTIMIZER_LOG_GROUPS, Catalog
from infra.constructs.dashboard import READ_PREFIXES, Dashboard
from infra.constructs.data_lake import DATA_PREFIXES, EMR_LOG_PREFIX, WAREHOUSE_PREFIX, DataLake
from infra.constructs.emr_profile import EmrProfile
from infra.constructs.source_token import SourceToken
from infra.constructs.trigger import Trigger

PACK = "AwsSolutions::"
MANAGED = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"


def _acknowledge(construct: IConstruct, findings: dict[str, str]) -> None:
    Validations.of(construct).acknowledge(*(Acknowledgment(id=PACK + f, reason=r) for f, r in findings.items()))


class Acknowledged(Protocol):
    """What the findings concern: the stack's constructs (infra.stack.FlightKpisStack, which calls this module)."""

    data_lake: DataLake
    emr_profile: EmrProfile
    trigger: Trigger
    source_tokens: dict[str, SourceToken]
    catalog: Catalog
    dashboard: Dashboard | None

    def resolve(self, obj: Any) -> Any: ...


def acknowledge_findings(stack: Acknowledged) -> None:
    """Attach every acknowledgement to the construct it concerns; anything else found fails the synth."""
    lake, profile = stack.data_lake, stack.emr_profile
    data_arn = stack.resolve(lake.data_bucket.bucket_arn)["Fn::GetAtt"][0]
    logs_arn = stack.resolve(lake.logs_bucket.bucket_arn)["Fn::GetAtt"][0]
    prefix_reason = (
        "The job writes objects whose names it derives at run time (partitions, run ids) under these fixed prefixes "
        "of the data bucket; the wildcard is confined to one prefix"
    )
    _acknowledge(
        profile.instance_role,
        {
            **{f"AwsSolutions-IAM5[Resource::<{data_arn}.Arn>/{p}*]": prefix_reason for p in DATA_PREFIXES},
            f"AwsSolutions-IAM5[Resource::<{logs_arn}.Arn>/{EMR_LOG_PREFIX}*]": (
                "EMR writes its cluster, step and container logs under this one prefix of the logs bucket"
            ),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<AWS::Region>.elasticmapreduce/*]": (
                "EMR's regional bucket of node set-up scripts and libraries (read only), owned by AWS"
            ),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::repo.<AWS::Region>.emr.amazonaws.com/*]": (
                "EMR's regional package repository (read only), owned by AWS"
            ),
            "AwsSolutions-IAM5[Resource::*]": (
                "cloudwatch:PutMetricData has no resource type; the statement is limited to the job's namespace "
                "by the cloudwatch:namespace condition"
            ),
        },
    )
    _acknowledge(
        profile.service_role,
        {
            f"AwsSolutions-IAM4[{MANAGED}AmazonEMRServicePolicy_v2]": (
                "AWS's recommended EMR service policy: it acts only on EC2 resources tagged "
                "for-use-with-amazon-emr-managed-policies=true, which this stack tags on its subnets and groups"
            ),
        },
    )
    _acknowledge(
        stack.trigger,  # the function and its own role (no managed policy: its logs grant names its log group)
        {
            "AwsSolutions-IAM5[Resource::*]": (
                "elasticmapreduce:RunJobFlow (only with the EMR managed-policy request tag) and ListClusters support "
                "no resource-level permissions; iam:PassRole is limited to the two EMR roles of this stack"
            ),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticmapreduce:<AWS::Region>:<AWS::AccountId>"
            ":cluster/*]": (
                "Cluster ids are only known once a cluster exists; limited to this account and region, and to "
                "DescribeCluster and AddTags"
            ),
        },
    )
    for token in stack.source_tokens.values():
        _acknowledge(
            token.secret,
            {
                "AwsSolutions-SMG4": (
                    f"The {token.issuer} API token is issued by {token.issuer} in its own portal; no rotation "
                    "function can mint a new one, so the operator replaces it there and puts the new value here"
                ),
            },
        )
    database = stack.catalog.database_name
    _acknowledge(
        stack.catalog.optimizer_role,
        {
            f"AwsSolutions-IAM5[Resource::<{data_arn}.Arn>/{WAREHOUSE_PREFIX}*]": (
                "Glue's optimizers rewrite, expire and delete the Iceberg tables' files under this one prefix"
            ),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/"
            f"{database}/*]": "The optimizers update the tables of this one Glue database only",
            **{
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                f"{group}:*]": "The log streams Glue's optimizers write in their own log group"
                for group in OPTIMIZER_LOG_GROUPS
            },
        },
    )
    if stack.dashboard is not None:
        results_arn = stack.resolve(lake.results_bucket.bucket_arn)["Fn::GetAtt"][0]
        _acknowledge(
            stack.dashboard,
            {
                **{
                    f"AwsSolutions-IAM5[Resource::<{data_arn}.Arn>/{p}*]": (
                        "QuickSight reads, through Athena, the objects under this one prefix of the data bucket; "
                        "their names are partition values known only at run time"
                    )
                    for p in READ_PREFIXES
                },
                "AwsSolutions-IAM5[Resource::*]": "athena:ListWorkGroups has no resource type",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/"
                f"{database}/*]": ("QuickSight may read the definitions of this one Glue database's tables only"),
                f"AwsSolutions-IAM5[Resource::<{results_arn}.Arn>/{ATHENA_RESULTS_PREFIX}*]": (
                    "Athena writes each query's result under a generated name below this one prefix of the results "
                    "bucket"
                ),
            },
        )
