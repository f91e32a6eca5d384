"""Lambda entry point: one scheduled event -> at most one transient EMR cluster for its run slot."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from lambda_trigger.cluster_request import PROJECT_TAG, SLOT_TAG, build_run_job_flow_request, cluster_name
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
    name = cluster_name(config, run_slot)
    for page in emr.get_paginator("list_clusters").paginate(ClusterStates=ACTIVE_STATES):
        for summary in page.get("Clusters", []):
            if summary.get("Name") != name:
                continue
            tags = {t["Key"]: t["Value"] for t in emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]["Tags"]}
            if tags.get(PROJECT_TAG) == config.project and tags.get(SLOT_TAG) == run_slot:
                return str(summary["Id"])
    return None


def trigger(event: Any, *, emr: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    """Start the slot's cluster unless one is already active; return what was done."""
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
