"""The schedule: an EventBridge rule invoking the trigger Lambda, with retries and a dead-letter queue."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

RUNTIME = lambda_.Runtime.PYTHON_3_14
HANDLER = "lambda_trigger.handler.handler"
RETRIES = 2  # the duplicate-slot guard makes a retried delivery harmless


class Trigger(Construct):
    """One function fired by the schedule; lost events land in the DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule: str,
        code_dir: Path,
        environment: dict[str, str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.log_group = logs.LogGroup(self, "Logs", removal_policy=RemovalPolicy.DESTROY)
        # The L2 takes an enum of named periods; the context gives days, which CloudFormation takes as is.
        self.log_group.node.default_child.retention_in_days = log_retention_days  # type: ignore[union-attr]
        # Its own role rather than the AWSLambdaBasicExecutionRole managed policy (logs:CreateLogGroup,
        # CreateLogStream and PutLogEvents on every log group): it writes only to its own log group, which the
        # stack creates (Lambda Developer Guide, "Defining Lambda function permissions with an execution role").
        self.role = iam.Role(
            self,
            "FunctionServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The trigger: its own log group, and the EMR calls the stack grants",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],  # arn:...:log-group:<name>:*, its streams
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            # Only the trigger's own package; the runtime's boto3 is all it needs (no bundling, no Docker).
            code=lambda_.Code.from_asset(str(code_dir)),
            handler=HANDLER,
            timeout=Duration.seconds(60),
            memory_size=256,
            role=self.role,
            # No reserved concurrency: an account keeps at least 100 executions unreserved, so new accounts (often
            # at a quota of 10) could not deploy it (Lambda Developer Guide, "Configuring reserved concurrency").
            # One schedule event every two hours, and the duplicate-slot guard, keep a second cluster from starting.
            retry_attempts=RETRIES,
            max_event_age=Duration.hours(1),
            dead_letter_queue=self.dead_letter_queue,
            environment=environment,
            log_group=self.log_group,
            description="Starts the transient EMR cluster of the scheduled run slot",
        )
        self.rule = events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.expression(schedule),
            description="Every run slot: start the flight KPIs job",
        )
        self.rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=RETRIES,
                max_event_age=Duration.hours(1),
            )
        )
