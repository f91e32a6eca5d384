"""Who may publish to the alarm topic and use its key, under which conditions, as synthesized."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synthesized

ACCOUNT = {"Ref": "AWS::AccountId"}
PARTITION, REGION = {"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}
# arn:<partition>:cloudwatch:<region>:<account>:alarm:flight-kpis-*, as CloudFormation joins it
ALARMS = {"Fn::Join": ["", ["arn:", PARTITION, ":cloudwatch:", REGION, ":", ACCOUNT, ":alarm:flight-kpis-*"]]}
TOPIC_ARN = {"Fn::Join": ["", ["arn:", PARTITION, ":sns:", REGION, ":", ACCOUNT, ":flight-kpis-alarms"]]}


def _by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def _topic_policy(synthesized: Synthesized) -> list[dict[str, Any]]:
    (policy,) = synthesized.resources("AWS::SNS::TopicPolicy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _key_policy(synthesized: Synthesized) -> list[dict[str, Any]]:
    (key,) = [k for name, k in synthesized.resources("AWS::KMS::Key").items() if name.startswith("AlarmsTopicKey")]
    return key["Properties"]["KeyPolicy"]["Statement"]


def _rule_ids(synthesized: Synthesized) -> list[str]:
    return sorted(
        name for name, rule in synthesized.resources("AWS::Events::Rule").items() if name.startswith("Alarms")
    )


def test_cloudwatch_alarms_may_publish_for_this_account_s_alarms_only(synthesized: Synthesized) -> None:
    statement = _by_sid(_topic_policy(synthesized))["CloudWatchAlarmsPublish"]

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"]["Ref"].startswith("AlarmsTopic")
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": ALARMS},
    }


def test_eventbridge_may_publish_for_the_two_emr_failure_rules_only(synthesized: Synthesized) -> None:
    statement = _by_sid(_topic_policy(synthesized))["EventBridgeRulesPublish"]

    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    rules = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(r["Fn::GetAtt"][0] for r in rules) == _rule_ids(synthesized)
    assert len(rules) == 2  # cluster ended with errors, step failed or cancelled
    assert [s["Sid"] for s in _topic_policy(synthesized) if s["Effect"] == "Allow"] == [
        "CloudWatchAlarmsPublish",
        "EventBridgeRulesPublish",
    ]  # no other publisher, and no statement without a source condition


def test_topic_refuses_plain_http(synthesized: Synthesized) -> None:
    denies = [s for s in _topic_policy(synthesized) if s["Effect"] == "Deny"]

    assert [s["Condition"] for s in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_key_lets_cloudwatch_encrypt_for_this_topic_and_these_alarms_only(synthesized: Synthesized) -> None:
    statement = _by_sid(_key_policy(synthesized))["CloudWatchAlarmsEncrypt"]

    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN},
        "ArnLike": {"aws:SourceArn": ALARMS},
    }


def test_key_lets_eventbridge_encrypt_for_this_topic_only(synthesized: Synthesized) -> None:
    statement = _by_sid(_key_policy(synthesized))["EventBridgeRulesEncrypt"]

    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # aws:SourceAccount / aws:SourceArn are not carried to KMS for EventBridge deliveries (SNS Developer Guide):
    # the topic condition scopes it instead.
    assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN}}


def test_no_service_may_use_the_key_without_a_condition(synthesized: Synthesized) -> None:
    services = [s for s in _key_policy(synthesized) if "Service" in s.get("Principal", {})]

    assert sorted(s["Principal"]["Service"] for s in services) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert all(s.get("Condition") for s in services)


def test_the_topic_arn_the_key_names_is_the_topic_s(synthesized: Synthesized) -> None:
    (topic,) = synthesized.resources("AWS::SNS::Topic").values()

    assert topic["Properties"]["TopicName"] == TOPIC_ARN["Fn::Join"][1][-1].removeprefix(":")


def test_every_alarm_is_named_under_the_pattern_the_policies_allow(synthesized: Synthesized) -> None:
    names = sorted(a["Properties"]["AlarmName"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values())

    assert all(name.startswith("flight-kpis-") for name in names)
    assert names[:6] == [
        "flight-kpis-DegradedRuns",
        "flight-kpis-FailedRuns",
        "flight-kpis-coverage-aircraft-manufacturer",
        "flight-kpis-coverage-aircraft-model",
        "flight-kpis-coverage-airline-country",
        "flight-kpis-coverage-airline-name",
    ]
    assert {"flight-kpis-no-successful-run", "flight-kpis-trigger-errors", "flight-kpis-dead-letters"} <= set(names)
    assert len(names) == 6 + 9  # six run and trigger alarms, nine coverage floors
