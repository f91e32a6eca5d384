"""A source's API token (the official Flightradar24 API's): an empty Secrets Manager secret the operator fills after
deploying. Which sources need one, and who issues it, etl/core/source_registry.py says."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


class SourceToken(Construct):
    """A secret with no value (`aws secretsmanager put-secret-value` sets it), readable by one role only."""

    def __init__(self, scope: Construct, construct_id: str, *, secret_name: str, issuer: str) -> None:
        super().__init__(scope, construct_id)
        # The L1 resource: without SecretString and GenerateSecretString CloudFormation creates an empty secret,
        # where the L2 `Secret` would generate a random password the job would then send as a token.
        self.secret = secretsmanager.CfnSecret(
            self,
            "Secret",
            name=secret_name,
            description=f"{issuer} API token of the flight KPIs job (put the value after deploying)",
        )
        # A token typed in by hand is kept when the stack is deleted, so a redeploy does not lose it.
        self.secret.apply_removal_policy(RemovalPolicy.RETAIN)
        self.secret_name = secret_name
        self.issuer = issuer
        self.secret_arn = self.secret.ref  # Ref of AWS::SecretsManager::Secret is its ARN

    def allow_reads_only_by(self, role: iam.IRole) -> None:
        """Deny GetSecretValue to every principal but `role`, whatever their own policies allow."""
        secretsmanager.CfnResourcePolicy(
            self,
            "OnlyReader",
            secret_id=self.secret_arn,
            block_public_policy=True,
            resource_policy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OnlyTheClusterRoleReads",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalArn": role.role_arn}},
                    }
                ],
            },
        )
