"""Loud failures: EMR failure events and CloudWatch alarms, all to one encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# Every metric below is published by the job, under the names etl/publication/metrics.py gives them.
from etl.publication.manifest import DEGRADED, FAILED, SUCCEEDED
from etl.publication.metrics import LIVE_FLIGHTS_METRIC, MAPPING_COVERAGE_METRIC, MAPPING_DIMENSION, STATUS_METRICS

SILENCE_HOURS = 4  # two missed two-hourly runs
# Live flights below the band CloudWatch's anomaly model learns from past runs (it needs about two weeks of
# two-hourly runs to learn the daily shape; until then it alarms on nothing). 3 standard deviations: the daily
# swing of world traffic (about 2x between night over the Pacific and the European afternoon) stays inside it.
LIVE_FLIGHTS_STD_DEVS = 3


def topic_name(project: str) -> str:
    """The alarm topic's fixed name: the job finds its ARN from it (the job config is written before deploy)."""
    return f"{project}-alarms"


def alarm_name(project: str, name: str) -> str:
    """`<project>-<name>`: every alarm of the stack, so that one ARN pattern names them all in the policies."""
    return f"{project}-{name}"


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    """The topic as a rule target, without the unconditioned `events.amazonaws.com` grant of CDK's SnsTopic target:
    the topic policy grants EventBridge, for these rules only."""

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self.topic, self.message = topic, message

    def bind(self, _rule: Any, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.topic.topic_arn, input=self.message)


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
        coverage_floors: Mapping[str, float],
    ) -> None:
        super().__init__(scope, construct_id)
        self.project = project
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{project}: alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=topic_name(project),
            display_name=f"{project} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
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
            _TopicTarget(
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
            _TopicTarget(
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
            alarm_name=alarm_name(project, "trigger-errors"),
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
            alarm_name=alarm_name(project, "no-successful-run"),
            alarm_description=f"{project}: no successful run in {SILENCE_HOURS} hours",
            metric=cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=STATUS_METRICS[SUCCEEDED],
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
            alarm_name=alarm_name(project, "dead-letters"),
            alarm_description=f"{project}: a schedule event could not be delivered or processed (see the DLQ)",
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        # A failed or degraded run: the job itself also sends the topic its one-line reason
        # (etl/publication/metrics.py), as the EMR step-failure event carries none.
        self.run_failed = self._count_alarm(
            project, metrics_namespace, STATUS_METRICS[FAILED], "a run failed (the job's message says why)"
        )
        self.run_degraded = self._count_alarm(
            project,
            metrics_namespace,
            STATUS_METRICS[DEGRADED],
            "a run was published degraded: its quality gate failed (the job's message names the checks)",
        )
        self.live_flights_low = cloudwatch.AnomalyDetectionAlarm(
            self,
            "LiveFlightsLow",
            alarm_name=alarm_name(project, "live-flights-low"),
            alarm_description=f"{project}: live flights far below their usual level for this time (anomaly band)",
            metric=cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=LIVE_FLIGHTS_METRIC,
                statistic="Minimum",
                period=Duration.hours(2),
            ),
            std_devs=LIVE_FLIGHTS_STD_DEVS,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no run at all: NoSuccessfulRun says so
        )
        # The floors of the deployed job config's `quality` section (infra/stack.py writes both from one value).
        self.coverage_below_floor = {
            mapping: cloudwatch.Alarm(
                self,
                f"Coverage{''.join(part.title() for part in mapping.split('_'))}",
                alarm_name=alarm_name(project, f"coverage-{mapping.replace('_', '-')}"),
                alarm_description=f"{project}: {mapping} coverage below its floor {floor:.0%}",
                metric=cloudwatch.Metric(
                    namespace=metrics_namespace,
                    metric_name=MAPPING_COVERAGE_METRIC,
                    dimensions_map={MAPPING_DIMENSION: mapping},
                    statistic="Minimum",
                    period=Duration.hours(1),
                ),
                threshold=floor,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for mapping, floor in coverage_floors.items()
            if floor > 0
        }
        for alarm in (
            self.trigger_errors,
            self.no_successful_run,
            self.dead_letters,
            self.run_failed,
            self.run_degraded,
            self.live_flights_low,
            *self.coverage_below_floor.values(),
        ):
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        self._allow_publishers([self.cluster_failed_rule, self.step_failed_rule])

    def _allow_publishers(self, rules: list[events.Rule]) -> None:
        """The topic policy and the key policy: CloudWatch for this stack's alarms, EventBridge for its rules.

        Without a statement for cloudwatch.amazonaws.com the alarms could not publish: the topic policy replaces
        SNS's default one. Both services are held to this account and to these alarms and rules (aws:SourceAccount,
        aws:SourceArn), as the SNS Developer Guide advises against the confused deputy ("Amazon SNS access control
        case examples"; "Managing Amazon SNS encryption keys and costs", compatibility with AWS services). The key
        names the topic's ARN from its fixed name: referring to the topic itself would make a cycle.
        """
        account = {"aws:SourceAccount": Aws.ACCOUNT_ID}
        alarms = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:{alarm_name(self.project, '*')}"
        topic_arn = f"arn:{Aws.PARTITION}:sns:{Aws.REGION}:{Aws.ACCOUNT_ID}:{topic_name(self.project)}"
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        events_service = iam.ServicePrincipal("events.amazonaws.com")
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": account, "ArnLike": {"aws:SourceArn": alarms}},
            )
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeRulesPublish",
                principals=[events_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": account, "ArnEquals": {"aws:SourceArn": [r.rule_arn for r in rules]}},
            )
        )
        # SNS encrypts what a service publishes with the topic's key on the service's behalf.
        key_actions = ["kms:Decrypt", "kms:GenerateDataKey*"]
        this_topic = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncrypt",
                principals=[cloudwatch_service],
                actions=key_actions,
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {**account, **this_topic}, "ArnLike": {"aws:SourceArn": alarms}},
            )
        )
        # EventBridge: only the topic condition. The SNS Developer Guide says aws:SourceAccount and aws:SourceArn
        # are not supported in a key policy for EventBridge-to-encrypted-topic delivery: with them, every EMR failure
        # event would be dropped. The topic policy above holds EventBridge to this account and these rules.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeRulesEncrypt",
                principals=[events_service],
                actions=key_actions,
                resources=["*"],
                conditions={"StringEquals": this_topic},
            )
        )

    def _count_alarm(self, project: str, namespace: str, metric_name: str, what: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            metric_name,
            alarm_name=alarm_name(project, metric_name),
            alarm_description=f"{project}: {what}",
            metric=cloudwatch.Metric(
                namespace=namespace, metric_name=metric_name, statistic="Sum", period=Duration.hours(1)
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
