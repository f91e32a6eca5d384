"""A run's figures as CloudWatch metrics, and a failed or degraded run's one-line reason on the alerts topic.

Metrics (namespace: the job config's metrics_namespace; no dimension unless said):
- `SuccessfulRuns`, `DegradedRuns`, `FailedRuns` (Count): 1 for the run's status, 0 for the two others;
- `LiveFlights` (Count), `QuarantineShare` (None, 0..1), `MappingCoverage` (None, 0..1, dimension `Mapping`) once
  the run measured them;
- `ExtractionRequests`, `ExtractionGaps` (failed tiles) (Count) and `ExtractionCoverage` (None, 0..1: the share of
  tiles fetched) for tiled extractions (demo and live; a snapshot replay has no tiles);
- `RunsBySource` (Count, dimension `Source`: the source that served it) and `SourceFailovers` (Count: the sources
  found unusable before it) for a successful run;
- `RunDuration` (Seconds).
The names are the constants below: the stack's alarms (infra/constructs/alarms.py) read the same ones.
The builders are pure (the manifest in, dicts out); the publishers take an optional client so moto can intercept.
Metrics that cannot be published fail the run loudly (MetricsNotPublishedError) unless the run failed already: a
run that went well without its `SuccessfulRuns` would otherwise look, to the `NoSuccessfulRun` alarm, like no run.
"""

from __future__ import annotations

import logging
from typing import Any

from etl.core.errors import JobError
from etl.core.log import log_event
from etl.publication.manifest import DEGRADED, FAILED, SUCCEEDED

STATUS_METRICS: dict[str, str] = {SUCCEEDED: "SuccessfulRuns", DEGRADED: "DegradedRuns", FAILED: "FailedRuns"}
LIVE_FLIGHTS_METRIC = "LiveFlights"
QUARANTINE_SHARE_METRIC = "QuarantineShare"
MAPPING_COVERAGE_METRIC = "MappingCoverage"
MAPPING_DIMENSION = "Mapping"
SOURCE_METRIC = "RunsBySource"  # one per successful run, with dimension Source = the source that served it
SOURCE_DIMENSION = "Source"
FAILOVER_METRIC = "SourceFailovers"  # sources found unusable before the one that served the run
_BATCH = 20  # PutMetricData's historical per-call limit; every CloudWatch endpoint accepts it


class MetricsNotPublishedError(JobError):
    """The run's metrics did not reach CloudWatch: the message says why and what the alarms will show."""


def _metric(name: str, value: float, unit: str, **dimensions: str) -> dict[str, Any]:
    datum: dict[str, Any] = {"MetricName": name, "Value": float(value), "Unit": unit}
    if dimensions:
        datum["Dimensions"] = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return datum


def run_metrics(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The MetricData entries of one run, from its manifest."""
    status = manifest.get("status")
    data = [_metric(metric, 1.0 if status == s else 0.0, "Count") for s, metric in STATUS_METRICS.items()]
    counts = manifest.get("counts") or {}
    if counts.get("live_flights") is not None:
        data.append(_metric(LIVE_FLIGHTS_METRIC, counts["live_flights"], "Count"))
    if counts.get("raw"):
        data.append(_metric(QUARANTINE_SHARE_METRIC, round(counts.get("quarantine", 0) / counts["raw"], 6), "None"))
    for mapping, share in sorted((manifest.get("mapping_coverage") or {}).items()):
        if share is None:  # no live flight carried the code: nothing was measured
            continue
        data.append(_metric(MAPPING_COVERAGE_METRIC, share, "None", **{MAPPING_DIMENSION: mapping}))
    extraction = manifest.get("extraction") or {}
    if extraction.get("tiles"):
        data.append(_metric("ExtractionRequests", extraction.get("requests", 0), "Count"))
        data.append(_metric("ExtractionGaps", len(extraction.get("failed_tiles") or []), "Count"))
        data.append(_metric("ExtractionCoverage", round(1 - float(extraction.get("failed_tile_share", 0)), 6), "None"))
    if status == SUCCEEDED:  # which source served it, and how many were found unusable before it
        data.extend(source_metric_data(extraction))
    total = (manifest.get("timings_s") or {}).get("total")
    if total is not None:
        data.append(_metric("RunDuration", total, "Seconds"))
    return data


def source_metric_data(extraction: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudWatch datums for a successful run: which source served it, and how many were skipped on the way."""
    served = extraction.get("source")
    if not served:
        return []
    attempts = extraction.get("sources", {}).get("attempts", [])
    skipped = sum(1 for a in attempts if a.get("outcome") == "unusable")
    return [
        _metric(SOURCE_METRIC, 1.0, "Count", **{SOURCE_DIMENSION: str(served)}),
        _metric(FAILOVER_METRIC, skipped, "Count"),
    ]


def publish_run_metrics(manifest: dict[str, Any], namespace: str | None, client: Any = None) -> list[dict[str, Any]]:
    """Put the run's metrics into the namespace (nothing when it is None); return what was put.

    On an AWS error: the `metrics_not_published` error event, then MetricsNotPublishedError, unless the run failed
    (its own error is what the run ends with; the FailedRuns alarm then misses it, the step failure event does not).
    """
    if not namespace:
        return []
    data = run_metrics(manifest)
    try:
        if client is None:
            import boto3

            client = boto3.client("cloudwatch")
        for start in range(0, len(data), _BATCH):
            client.put_metric_data(Namespace=namespace, MetricData=data[start : start + _BATCH])
    except Exception as exc:
        reason = _aws_reason(exc)
        status = manifest.get("status")
        log_event(
            "metrics_not_published",
            logging.ERROR,
            namespace=namespace,
            run_status=status,
            error_type=type(exc).__name__,
            error=reason,
        )
        if status == FAILED:
            return []
        raise MetricsNotPublishedError(
            f"the run {status}, but its metrics were not published to CloudWatch namespace {namespace}: {reason} "
            "(without them the NoSuccessfulRun alarm fires)"
        ) from exc
    log_event("metrics_published", namespace=namespace, metrics=len(data))
    return data


def _aws_reason(exc: Exception) -> str:
    """One line saying why an AWS call failed, with what to do when it is known."""
    if type(exc).__name__ == "NoRegionError":  # botocore does not read the region from instance metadata
        return "no AWS region: set AWS_REGION (on EMR the cluster configuration exports it)"
    return " ".join(str(exc).split()) or type(exc).__name__


def alert_text(manifest: dict[str, Any]) -> tuple[str, str] | None:
    """(subject, one-line message) for a failed or degraded run; None for a succeeded one."""
    status = manifest.get("status")
    if status not in (FAILED, DEGRADED):
        return None
    quality = manifest.get("quality") or {}
    if status == FAILED:
        reason = manifest.get("error") or "no error recorded"
    else:
        reason = f"published degraded; failed checks: {', '.join(quality.get('failed') or [])}"
    subject = f"Flight KPIs run {status}: slot {manifest.get('run_slot')}"
    message = (
        f"run {manifest.get('run_id')} of slot {manifest.get('run_slot')} ({manifest.get('source')}) {status}: {reason}"
    )
    return subject[:100], " ".join(message.split())


def topic_arn(topic: str, sts_client: Any = None, region: str | None = None) -> str:
    """The topic's ARN: as given, or built from a bare name and the caller's account, partition and region."""
    if topic.startswith("arn:"):
        return topic
    import boto3

    session = boto3.session.Session()
    sts = sts_client or session.client("sts")
    caller = sts.get_caller_identity()  # needs no permission
    partition = caller["Arn"].split(":")[1]
    return f"arn:{partition}:sns:{region or session.region_name}:{caller['Account']}:{topic}"


def publish_alert(manifest: dict[str, Any], topic: str | None, client: Any = None, sts_client: Any = None) -> bool:
    """Tell the alerts topic why a run failed or was degraded; True when a message was sent. Never raises."""
    text = alert_text(manifest)
    if not topic or text is None:
        return False
    subject, message = text
    try:
        if client is None:
            import boto3

            client = boto3.client("sns")
        arn = topic_arn(topic, sts_client, client.meta.region_name)
        client.publish(TopicArn=arn, Subject=subject, Message=message)
        log_event("alert_published", topic=arn, status=manifest.get("status"))
    except Exception as exc:  # the EMR step-failure alarm still fires; this message only adds the reason
        log_event("alert_not_published", logging.ERROR, topic=topic, error=str(exc))
        return False
    return True
