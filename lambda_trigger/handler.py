"""Lambda entry point: one scheduled event -> at most one transient EMR cluster for its run slot.

A backfill event, `{"backfill": {"from": "2026-11-01T00", "to": "2026-11-30T22"}}` (optionally `"from_raw": true`),
starts one cluster for the whole range instead, unless one is already active for that same range.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from lambda_trigger.backfill_range import backfill_range_from_event, is_backfill_event
from lambda_trigger.cluster_request import (
    PROJECT_TAG,
    RANGE_TAG,
    SLOT_TAG,
    backfill_cluster_name,
    build_backfill_request,
    build_run_job_flow_request,
    cluster_name,
)
from lambda_trigger.config import TriggerConfig
from lambda_trigger.run_slot import run_slot_from_event

# States in which a cluster may still do (or be about to do) a slot's work.
ACTIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


def _log(event: str, **fields: Any) -> None:
    logger.info(json.dumps({"event": event, **fields}, sort_keys=True, default=str))


def active_cluster_for_slot(emr: Any, config: TriggerConfig, run_slot: str) -> str | None:
    """The id of an active cluster of this project already tagged with the slot, if any."""
    return _active_cluster(emr, config, cluster_name(config, run_slot), SLOT_TAG, run_slot)


def _active_cluster(emr: Any, config: TriggerConfig, name: str, tag: str, value: str) -> str | None:
    for page in emr.get_paginator("list_clusters").paginate(ClusterStates=ACTIVE_STATES):
        for summary in page.get("Clusters", []):
            if summary.get("Name") != name:
                continue
            tags = {t["Key"]: t["Value"] for t in emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]["Tags"]}
            if tags.get(PROJECT_TAG) == config.project and tags.get(tag) == value:
                return str(summary["Id"])
    return None


def trigger_backfill(event: Any, *, emr: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    """Start one cluster for the event's range unless one is already active for that range; return what was done."""
    backfill = backfill_range_from_event(event)  # a malformed range stops here, before any AWS call
    config = TriggerConfig.from_env(environ)
    span = {"backfill_from": backfill.first, "backfill_to": backfill.last, "from_raw": backfill.from_raw}
    existing = _active_cluster(emr, config, backfill_cluster_name(config, backfill), RANGE_TAG, backfill.tag)
    if existing:
        result = {"status": "already_running", **span, "cluster_id": existing}
        _log("cluster_not_started", reason="an active cluster already serves this backfill range", **result)
        return result
    response = emr.run_job_flow(**build_backfill_request(config, backfill))
    result = {"status": "started", **span, "cluster_id": response["JobFlowId"]}
    _log("backfill_cluster_started", cluster_arn=response.get("ClusterArn"), **result)
    return result


def trigger(event: Any, *, emr: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    """Start the slot's cluster (or a backfill event's) unless one is already active; return what was done."""
    if is_backfill_event(event):
        return trigger_backfill(event, emr=emr, environ=environ)
    run_slot = run_slot_from_event(event)  # a malformed event stops here, before any AWS call
    config = TriggerConfig.from_env(environ)
    existing = active_cluster_for_slot(emr, config, run_slot)
    if existing:
        result = {"status": "already_running", "run_slot": run_slot, "cluster_id": existing}
        _log("cluster_not_started", reason="an active cluster already serves this run slot", **result)
        return result
    response = emr.run_job_flow(**build_run_job_flow_request(config, run_slot))
    result = {"status": "started", "run_slot": run_slot, "cluster_id": response["JobFlowId"]}
    _log("cluster_started", cluster_arn=response.get("ClusterArn"), **result)
    return result


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda handler: read the environment, start the cluster, log and return the result."""
    import boto3  # the runtime's own boto3; imported here so tests can patch AWS before any client exists

    try:
        return trigger(event, emr=boto3.client("emr"), environ=os.environ)
    except Exception as exc:
        _log("trigger_failed", error_type=type(exc).__name__, error=str(exc))
        raise
