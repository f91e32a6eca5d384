"""Sources by name: the feed each one is read through, its settings, its token, and failover in a given order.

A run tries `config.source_order()` in turn. A source is unusable when the source-health gate says so
(SourceHealthError) or when it cannot be set up at all (SourceUnavailableError, e.g. its token secret is empty);
the next one is then tried. Every attempt is recorded with its reason; the first usable capture serves the run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from etl.config import ConfigError, ExtractSettings, JobConfig
from etl.errors import SourceHealthError, SourceUnavailableError
from etl.extract.feed import Feed
from etl.log import log_event

log = logging.getLogger(__name__)

TILED_SOURCES = ("demo", "flightradarapi", "fr24api")  # read through the tiled extractor (snapshot is read whole)
SOURCE_METRIC = "RunsBySource"  # one per successful run, with dimension Source = the source that served it
SOURCE_DIMENSION = "Source"
FAILOVER_METRIC = "SourceFailovers"  # sources found unusable before the one that served the run

T = TypeVar("T")


def extract_settings_for(name: str, config: JobConfig) -> ExtractSettings:
    """The tiler's settings for a source: the official API's cap is its request `limit`, not the web feed's 1,500."""
    if name == "fr24api":
        return replace(config.extract, tile_cap=config.fr24api_limit)
    return config.extract


def fr24api_token(config: JobConfig, *, secrets_client: Any = None) -> str:
    """The official API's token: from Secrets Manager when fr24api_token_secret is set, else the environment.

    Raises SourceUnavailableError naming the secret or variable (never the value) when there is no token.
    """
    secret_id = config.fr24api_token_secret
    if not secret_id:
        token = os.environ.get(config.fr24api_token_env, "").strip()
        if not token:
            raise SourceUnavailableError(f"source fr24api: environment variable {config.fr24api_token_env} is empty")
        return token
    if secrets_client is None:
        import boto3

        secrets_client = boto3.client("secretsmanager")
    put = f"aws secretsmanager put-secret-value --secret-id {secret_id} --secret-string <token>"
    try:
        answer = secrets_client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # botocore's ClientError carries the code; the message never holds the value
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        if code == "ResourceNotFoundException":
            raise SourceUnavailableError(
                f"source fr24api: the token secret {secret_id} does not exist or has no value yet: {put}"
            ) from None
        raise SourceUnavailableError(f"source fr24api: cannot read the token secret {secret_id}: {code}") from None
    token = (answer.get("SecretString") or "").strip()
    if not token:
        raise SourceUnavailableError(f"source fr24api: the token secret {secret_id} is empty: {put}")
    return token


def feed_for(name: str, config: JobConfig, now: datetime) -> Feed:
    """The feed a tiled source is read through (the demo's simulated world is captured at `now`)."""
    if name == "flightradarapi":
        from etl.extract.fr24 import FlightRadarFeed

        return FlightRadarFeed(timeout_s=config.extract.timeout_s, feed_url=config.feed_url)
    if name == "fr24api":
        from etl.extract.fr24api import Fr24ApiFeed

        return Fr24ApiFeed(
            fr24api_token(config),
            base_url=config.fr24api_url,
            limit=config.fr24api_limit,
            timeout_s=config.extract.timeout_s,
        )
    if name == "demo":
        from etl.simulate.feed import SimulatedFeed
        from etl.simulate.world import World

        world = World.generate(config.demo_flights, config.demo_seed, capture_time=now)
        return SimulatedFeed(world.flights, cap=config.extract.tile_cap, seed=config.demo_seed)
    raise ConfigError(f"source {name!r} is not read through a feed")


def close_feed(feed: Any) -> None:
    """Release what a feed holds (HTTP clients), when it has anything to release."""
    close = getattr(feed, "close", None)
    if callable(close):
        close()


@dataclass
class Failover(Generic[T]):
    """The outcome of trying sources in order: what served the run and every attempt."""

    served: str
    result: T
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """JSON-ready, for the manifest's extraction entry."""
        return {"order": [a["source"] for a in self.attempts], "served": self.served, "attempts": self.attempts}


def run_with_failover(
    order: tuple[str, ...], attempt: Callable[[str], tuple[T, dict[str, Any]]], *, what: str = "source"
) -> Failover[T]:
    """Call `attempt(name)` for each source until one is usable; record each attempt's outcome and reason.

    `attempt` returns its result and a few figures for the record (tiles, requests, ...) or raises
    SourceHealthError / SourceUnavailableError when the source is unusable. With one source its error is raised
    as it is; when every source of a list is unusable, a SourceHealthError naming each reason.
    """
    attempts: list[dict[str, Any]] = []
    errors: list[Exception] = []
    for name in order:
        started = time.perf_counter()
        try:
            result, figures = attempt(name)
        except (SourceHealthError, SourceUnavailableError) as exc:
            reason = str(exc).splitlines()[0]
            attempts.append(
                {
                    "source": name,
                    "outcome": "unusable",
                    "reason": reason,
                    "error": type(exc).__name__,
                    "wall_s": round(time.perf_counter() - started, 3),
                    **getattr(exc, "figures", {}),
                }
            )
            errors.append(exc)
            log_event("source_unusable", logging.WARNING, source=name, reason=reason)
            continue
        wall_s = round(time.perf_counter() - started, 3)
        attempts.append({"source": name, "outcome": "served", "wall_s": wall_s, **figures})
        if len(attempts) > 1:
            log_event("source_failover", served=name, unusable=[a["source"] for a in attempts[:-1]])
        return Failover(name, result, attempts)
    if len(errors) == 1:
        raise errors[0]
    reasons = "; ".join(f"{a['source']}: {a['reason'].removesuffix('; nothing written')}" for a in attempts)
    raise SourceHealthError(f"no {what} of {list(order)} was usable ({reasons}); nothing written")


def source_metric_data(extraction: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudWatch datums for a successful run: which source served it, and how many were skipped on the way."""
    served = extraction.get("source")
    if not served:
        return []
    attempts = extraction.get("sources", {}).get("attempts", [])
    skipped = sum(1 for a in attempts if a.get("outcome") == "unusable")
    return [
        {
            "MetricName": SOURCE_METRIC,
            "Dimensions": [{"Name": SOURCE_DIMENSION, "Value": str(served)}],
            "Value": 1.0,
            "Unit": "Count",
        },
        {"MetricName": FAILOVER_METRIC, "Value": float(skipped), "Unit": "Count"},
    ]
