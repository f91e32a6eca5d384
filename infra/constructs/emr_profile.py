"""The EMR profile: roles, instance profile, security configuration and network; the cluster shape is the Lambda's."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambda_trigger.cluster_request import EMR_MANAGED_TAG as _TAG

# AmazonEMRServicePolicy_v2 acts only on EC2 resources carrying this tag (the one the trigger's requests carry).
EMR_MANAGED_TAG = (_TAG["Key"], _TAG["Value"])


class EmrProfile(Construct):
    """Least-privilege roles (grants are made by the stack), disk encryption, and where the cluster runs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        logs_bucket: s3.IBucket,
        vpc_id: str | None = None,
        subnet_ids: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if vpc_id:
            self.vpc_id = vpc_id
            self.subnet_ids = list(subnet_ids)
            # An existing VPC is expected to reach the internet through its own NAT. Its subnets (and any group
            # not made here) must carry EMR_MANAGED_TAG, which AmazonEMRServicePolicy_v2's CreateInTaggedNetwork
            # requires; CloudFormation cannot tag them: infra/network.py checks them at synth, docs/deploy.md says how.
            private_subnets = True
        else:
            # Public subnets only: no NAT gateway to pay for (about 33 USD a month each); an S3 gateway endpoint keeps
            # S3 traffic off the internet. The nodes get public addresses but no inbound rule from outside the
            # cluster's groups. The switch: `vpc_id` and `subnet_ids` of private subnets with a NAT (docs/deploy.md).
            vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=2,
                nat_gateways=0,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="emr", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
                ],
                gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
            )
            vpc.add_flow_log(
                "FlowLog",
                # No key prefix: AWS writes under AWSLogs/<account>/vpcflowlogs/ of the logs bucket by itself.
                destination=ec2.FlowLogDestination.to_s3(logs_bucket),
                traffic_type=ec2.FlowLogTrafficType.REJECT,  # rejected traffic is what needs investigating
            )
            for subnet in vpc.public_subnets:
                Tags.of(subnet).add(*EMR_MANAGED_TAG)
            self.vpc_id = vpc.vpc_id
            self.subnet_ids = [subnet.subnet_id for subnet in vpc.public_subnets]
            private_subnets = False

        # EMR adds the rules it needs to its managed groups; the cross references are declared here so that they
        # belong to the stack and `cdk destroy` can remove the groups.
        self.primary_security_group = self._group("PrimarySecurityGroup", f"{project} EMR primary node")
        self.core_security_group = self._group("CoreSecurityGroup", f"{project} EMR core nodes")
        groups = {"Primary": self.primary_security_group, "Core": self.core_security_group}
        for target_name, target in groups.items():
            for source_name, source in groups.items():
                ec2.CfnSecurityGroupIngress(
                    self,
                    f"{target_name}From{source_name}",
                    group_id=target.attr_group_id,
                    source_security_group_id=source.attr_group_id,
                    ip_protocol="-1",
                    description=f"EMR cluster traffic from the {source_name.lower()} group",
                )
        self.service_access_security_group: ec2.CfnSecurityGroup | None = None
        if private_subnets:
            service = self._group("ServiceAccessSecurityGroup", f"{project} EMR service access (private subnets)")
            ec2.CfnSecurityGroupIngress(
                self,
                "ServiceFromPrimary",
                group_id=service.attr_group_id,
                source_security_group_id=self.primary_security_group.attr_group_id,
                ip_protocol="tcp",
                from_port=9443,
                to_port=9443,
                description="EMR service access from the primary node",
            )
            ec2.CfnSecurityGroupEgress(
                self,
                "ServiceToPrimary",
                group_id=service.attr_group_id,
                destination_security_group_id=self.primary_security_group.attr_group_id,
                ip_protocol="tcp",
                from_port=8443,
                to_port=8443,
                description="EMR service to the primary node",
            )
            self.service_access_security_group = service

        # Local disks and EBS volumes of every node are encrypted with this key (S3 objects use SSE-S3).
        self.disk_key = kms.Key(
            self,
            "DiskKey",
            description=f"{project}: EMR local disk and EBS encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # it protects transient clusters' scratch disks only
        )

        self.service_role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("elasticmapreduce.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEMRServicePolicy_v2")],
            description=f"{project}: EMR service role",
        )
        self.instance_role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"{project}: EMR cluster nodes (the Spark job runs as this role)",
        )
        # The profile carries its role's name: EMR may refuse a profile named otherwise as an "invalid instance
        # profile" (EMR Management Guide, "Service role for cluster EC2 instances (EC2 instance profile)").
        self.instance_profile = iam.InstanceProfile(
            self, "InstanceProfile", role=self.instance_role, instance_profile_name=self.instance_role.role_name
        )
        self.service_role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )

        self.security_configuration = self._security_configuration()

    def _group(self, construct_id: str, description: str) -> ec2.CfnSecurityGroup:
        group = ec2.CfnSecurityGroup(
            self,
            construct_id,
            group_description=description,
            vpc_id=self.vpc_id,
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="-1", cidr_ip="0.0.0.0/0", description="Feed, PyPI and AWS APIs"
                )
            ],
        )
        Tags.of(group).add(*EMR_MANAGED_TAG)
        return group

    def _security_configuration(self) -> emr.CfnSecurityConfiguration:
        configuration = {
            "EncryptionConfiguration": {
                # Off: in-transit encryption needs a PEM certificate bundle in S3 to create, rotate and protect
                # (EMR Management Guide, "Providing certificates for encrypting data in transit"); the nodes' traffic
                # stays inside the cluster's security groups, and S3 and AWS API calls are TLS regardless.
                # docs/deploy.md, "Encryption in transit", gives the switch.
                "EnableInTransitEncryption": False,
                "EnableAtRestEncryption": True,
                "AtRestEncryptionConfiguration": {
                    "S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"},
                    "LocalDiskEncryptionConfiguration": {
                        "EncryptionKeyProviderType": "AwsKms",
                        "AwsKmsKey": self.disk_key.key_arn,
                        "EnableEbsEncryption": True,
                    },
                },
            }
        }
        return emr.CfnSecurityConfiguration(self, "SecurityConfiguration", security_configuration=configuration)

    @property
    def security_configuration_name(self) -> str:
        """The name RunJobFlow takes (CloudFormation generates it)."""
        return self.security_configuration.ref
