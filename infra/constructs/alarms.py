"""Loud failures: EMR failure events and CloudWatch alarms, all to one encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

SUCCESS_METRIC = "SuccessfulRuns"  # published by the job (etl/pipeline.py) on success
SILENCE_HOURS = 4  # two missed two-hourly runs


class Alarms(Construct):
    """EMR cluster/step failures, trigger errors, dead letters and a silent pipeline all reach the topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        alarm_email: str | None,
        metrics_namespace: str,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{project}: alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The publishers are AWS services: they need the key to encrypt what they send to the topic.
        for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
            self.key.grant(iam.ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Topic", display_name=f"{project} alarms", master_key=self.key, enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))

        self.cluster_failed_rule = events.Rule(
            self,
            "ClusterFailed",
            description=f"{project}: an EMR cluster ended with errors",
            event_pattern=events.EventPattern(
                source=["aws.emr"],
                detail_type=["EMR Cluster State Change"],
                detail={"state": ["TERMINATED_WITH_ERRORS"], "name": [{"prefix": f"{project}-"}]},
            ),
        )
        self.cluster_failed_rule.add_target(
            targets.SnsTopic(
                self.topic,
                message=events.RuleTargetInput.from_text(
                    f"{project}: EMR cluster {events.EventField.from_path('$.detail.name')} "
                    f"({events.EventField.from_path('$.detail.clusterId')}) ended "
                    f"{events.EventField.from_path('$.detail.state')}: "
                    f"{events.EventField.from_path('$.detail.stateChangeReason')}"
                ),
            )
        )
        self.step_failed_rule = events.Rule(
            self,
            "StepFailed",
            description=f"{project}: an EMR step failed or was cancelled",
            event_pattern=events.EventPattern(
                source=["aws.emr"],
                detail_type=["EMR Step Status Change"],
                detail={"state": ["FAILED", "CANCELLED"], "name": [{"prefix": f"{project} "}]},
            ),
        )
        self.step_failed_rule.add_target(
            targets.SnsTopic(
                self.topic,
                message=events.RuleTargetInput.from_text(
                    f"{project}: step {events.EventField.from_path('$.detail.name')} on cluster "
                    f"{events.EventField.from_path('$.detail.clusterId')} "
                    f"{events.EventField.from_path('$.detail.state')}: "
                    f"{events.EventField.from_path('$.detail.message')}"
                ),
            )
        )

        self.trigger_errors = cloudwatch.Alarm(
            self,
            "TriggerErrors",
            alarm_description=f"{project}: the trigger Lambda failed (no cluster was started for a slot)",
            metric=function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.no_successful_run = cloudwatch.Alarm(
            self,
            "NoSuccessfulRun",
            alarm_description=f"{project}: no successful run in {SILENCE_HOURS} hours",
            metric=cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=SUCCESS_METRIC,
                statistic="Sum",
                period=Duration.hours(1),
            ),
            threshold=1,
            # Every one of the last four hourly periods without a success (no data counts as none).
            evaluation_periods=SILENCE_HOURS,
            datapoints_to_alarm=SILENCE_HOURS,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.dead_letters = cloudwatch.Alarm(
            self,
            "DeadLetters",
            alarm_description=f"{project}: a schedule event could not be delivered or processed (see the DLQ)",
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (self.trigger_errors, self.no_successful_run, self.dead_letters):
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
