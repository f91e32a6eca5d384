"""The run's CloudWatch metrics and the alert of a failed or degraded run, on moto."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from moto import mock_aws

from etl.core.log import json_stream_handler, use_handlers
from etl.publication.metrics import (
    MetricsNotPublishedError,
    alert_text,
    publish_alert,
    publish_run_metrics,
    run_metrics,
    topic_arn,
)

NAMESPACE = "FlightKpisTest"
REGION = "eu-west-1"

DEMO_MANIFEST = {
    "run_id": "20261122T14-20261122T140003Z-abc123",
    "run_slot": "2026-11-22T14",
    "status": "succeeded",
    "source": "demo",
    "error": None,
    "counts": {"raw": 2000, "silver": 1990, "quarantine": 10, "live_flights": 1700},
    "mapping_coverage": {"origin_airport": 0.98, "aircraft_model": 0.875, "airline_name": None},
    "extraction": {"tiles": 40, "requests": 52, "failed_tiles": ["0,10,0,10"], "failed_tile_share": 0.025},
    "timings_s": {"total": 61.5},
    "quality": {"passed": True, "failed": []},
}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_a_run_becomes_these_metrics() -> None:
    assert run_metrics(DEMO_MANIFEST) == [
        {"MetricName": "SuccessfulRuns", "Value": 1.0, "Unit": "Count"},
        {"MetricName": "DegradedRuns", "Value": 0.0, "Unit": "Count"},
        {"MetricName": "FailedRuns", "Value": 0.0, "Unit": "Count"},
        {"MetricName": "LiveFlights", "Value": 1700.0, "Unit": "Count"},
        {"MetricName": "QuarantineShare", "Value": 0.005, "Unit": "None"},
        {
            "MetricName": "MappingCoverage",
            "Value": 0.875,
            "Unit": "None",
            "Dimensions": [{"Name": "Mapping", "Value": "aircraft_model"}],
        },
        {
            "MetricName": "MappingCoverage",
            "Value": 0.98,
            "Unit": "None",
            "Dimensions": [{"Name": "Mapping", "Value": "origin_airport"}],
        },
        {"MetricName": "ExtractionRequests", "Value": 52.0, "Unit": "Count"},
        {"MetricName": "ExtractionGaps", "Value": 1.0, "Unit": "Count"},
        {"MetricName": "ExtractionCoverage", "Value": 0.975, "Unit": "None"},
        {"MetricName": "RunDuration", "Value": 61.5, "Unit": "Seconds"},
    ]


def test_a_run_that_failed_early_reports_its_status_and_duration_only() -> None:
    failed = {"status": "failed", "counts": {}, "extraction": {}, "timings_s": {"total": 2.0}}
    assert run_metrics(failed) == [
        {"MetricName": "SuccessfulRuns", "Value": 0.0, "Unit": "Count"},
        {"MetricName": "DegradedRuns", "Value": 0.0, "Unit": "Count"},
        {"MetricName": "FailedRuns", "Value": 1.0, "Unit": "Count"},
        {"MetricName": "RunDuration", "Value": 2.0, "Unit": "Seconds"},
    ]


def test_metrics_land_in_the_namespace(aws) -> None:
    published = publish_run_metrics(DEMO_MANIFEST, NAMESPACE)
    assert len(published) == 11
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    names = sorted((m["MetricName"], tuple((d["Name"], d["Value"]) for d in m.get("Dimensions", []))) for m in listed)
    assert names == [
        ("DegradedRuns", ()),
        ("ExtractionCoverage", ()),
        ("ExtractionGaps", ()),
        ("ExtractionRequests", ()),
        ("FailedRuns", ()),
        ("LiveFlights", ()),
        ("MappingCoverage", (("Mapping", "aircraft_model"),)),
        ("MappingCoverage", (("Mapping", "origin_airport"),)),
        ("QuarantineShare", ()),
        ("RunDuration", ()),
        ("SuccessfulRuns", ()),
    ]


class Broken:
    """A CloudWatch client whose every call fails."""

    def put_metric_data(self, **_kwargs):
        raise RuntimeError("Throttling: Rate exceeded")


@pytest.fixture
def events():
    """The job's log events of the test, as dicts."""
    stream = io.StringIO()
    use_handlers(json_stream_handler(stream))
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    use_handlers(json_stream_handler())


def test_no_namespace_publishes_nothing(aws) -> None:
    assert publish_run_metrics(DEMO_MANIFEST, None) == []


def test_metrics_that_cannot_be_published_fail_a_good_run_loudly(aws, events) -> None:
    with pytest.raises(MetricsNotPublishedError) as caught:
        publish_run_metrics(DEMO_MANIFEST, NAMESPACE, client=Broken())

    assert str(caught.value) == (
        "the run succeeded, but its metrics were not published to CloudWatch namespace FlightKpisTest: "
        "Throttling: Rate exceeded (without them the NoSuccessfulRun alarm fires)"
    )
    [event] = [e for e in events() if e["event"] == "metrics_not_published"]
    assert event["level"] == "error"
    assert (event["namespace"], event["run_status"], event["error_type"]) == (NAMESPACE, "succeeded", "RuntimeError")


def test_a_failed_run_keeps_its_own_error_when_its_metrics_cannot_be_published(aws, events) -> None:
    failed = {**DEMO_MANIFEST, "status": "failed"}

    assert publish_run_metrics(failed, NAMESPACE, client=Broken()) == []
    [event] = [e for e in events() if e["event"] == "metrics_not_published"]
    assert (event["level"], event["run_status"], event["error"]) == ("error", "failed", "Throttling: Rate exceeded")


def test_no_region_is_named_with_what_to_set(aws, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")  # no profile region either

    with pytest.raises(MetricsNotPublishedError, match=r": no AWS region: set AWS_REGION \(on EMR the cluster"):
        publish_run_metrics({**DEMO_MANIFEST, "status": "degraded"}, NAMESPACE)


def _queue_on_topic(name: str) -> tuple[str, str]:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return arn, queue_url


def _received(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_failed_run_tells_the_topic_its_one_line_reason(aws) -> None:
    arn, queue = _queue_on_topic("flight-kpis-alarms")
    failed = {
        **DEMO_MANIFEST,
        "status": "failed",
        "source": "snapshot",
        "error": "QualityGateError: quality gate failed: silver_rows (0 usable rows of 7 (min_silver_rows 1))",
    }
    # The deployed job config names the topic; its ARN is built from the caller's account and the region.
    assert publish_alert(failed, "flight-kpis-alarms", client=boto3.client("sns", region_name=REGION))
    [body] = _received(queue)
    assert body["TopicArn"] == arn == "arn:aws:sns:eu-west-1:123456789012:flight-kpis-alarms"
    assert body["Subject"] == "Flight KPIs run failed: slot 2026-11-22T14"
    assert body["Message"] == (
        "run 20261122T14-20261122T140003Z-abc123 of slot 2026-11-22T14 (snapshot) failed: QualityGateError: "
        "quality gate failed: silver_rows (0 usable rows of 7 (min_silver_rows 1))"
    )


def test_a_degraded_run_names_its_failed_checks_and_a_good_run_sends_nothing(aws) -> None:
    arn, queue = _queue_on_topic("alerts")
    degraded = {**DEMO_MANIFEST, "status": "degraded", "quality": {"failed": ["inputs:Q2", "inputs:Q3"]}}
    assert alert_text(degraded) == (
        "Flight KPIs run degraded: slot 2026-11-22T14",
        "run 20261122T14-20261122T140003Z-abc123 of slot 2026-11-22T14 (demo) degraded: published degraded; "
        "failed checks: inputs:Q2, inputs:Q3",
    )
    assert publish_alert(degraded, arn)
    assert not publish_alert(DEMO_MANIFEST, arn)
    assert [b["Subject"] for b in _received(queue)] == ["Flight KPIs run degraded: slot 2026-11-22T14"]


def test_topic_arn_is_kept_as_given() -> None:
    arn = "arn:aws-cn:sns:cn-north-1:123456789012:x"
    assert topic_arn(arn) == arn
