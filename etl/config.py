"""The job's one typed configuration, validated up front with a clear error."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from etl.layout import RunSlot

SOURCES = ("demo", "live", "snapshot")


class ConfigError(ValueError):
    """A configuration value that cannot be used; raised before anything is written."""


@dataclass(frozen=True)
class ExtractSettings:
    """How the world is tiled and fetched."""

    tile_cap: int = 1500  # a feed answer of this many flights is presumed truncated: split the tile
    min_tile_deg: float = 0.25  # tiles are not split below this edge; a capped tile that small is recorded
    concurrency: int = 4  # requests in flight at once (polite default)
    timeout_s: float = 20.0  # per request
    retries: int = 4  # further attempts after the first, on network, Cloudflare and 5xx errors
    backoff_base_s: float = 0.5  # exponential backoff base, with full jitter
    backoff_max_s: float = 8.0
    max_failed_tile_share: float = 0.5  # above this share of failed tiles the source is unusable
    stale_after_s: int = 1800  # positions older than this (vs. capture time) are stale
    max_stale_share: float = 0.5  # above this share of stale positions the source is unusable
    # Politeness. FR24's own web map asks for one feed box every few seconds per open tab; 2 requests per second
    # stays within what a couple of open maps send, yet captures a warm-planned 20,000-flight world (about 20
    # requests) in about 10 s, nothing against a 2-hour schedule. 0 turns the ceiling off (simulated feeds).
    max_requests_per_s: float = 2.0
    # 403, 429 and Cloudflare challenges say "slow down", not "try again": a longer backoff, during which no
    # request of this capture starts, than for 5xx and network errors.
    blocked_backoff_base_s: float = 5.0
    blocked_backoff_max_s: float = 60.0
    # The tile plan (etl/extract/plan.py): tiles hold plan_fill of the cap on the previous capture's density, grown
    # by plan_growth (traffic moves and grows between slots); a prior older than plan_max_age_h hours is not used.
    plan_fill: float = 0.8
    plan_growth: float = 0.1
    plan_max_age_h: int = 12
    plan_cell_deg: float = 0.5  # cell of the density file written beside raw
    cold_start_flights: int = 10_000  # flights the cold-start plan assumes before the first capture says better
    cold_start: str = "zones"  # zones: FR24's zones (plan.py); grid: 30-degree tiles, the plan before there was one

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value."""
        checks = [
            (self.tile_cap >= 1, "tile_cap must be >= 1"),
            (0 < self.min_tile_deg <= 90, "min_tile_deg must be in (0, 90]"),
            (1 <= self.concurrency <= 64, "concurrency must be between 1 and 64"),
            (self.timeout_s > 0, "timeout_s must be > 0"),
            (0 <= self.retries <= 10, "retries must be between 0 and 10"),
            (0 <= self.backoff_base_s <= self.backoff_max_s, "backoff must be 0 <= base <= max"),
            (0 <= self.max_failed_tile_share <= 1, "max_failed_tile_share must be in [0, 1]"),
            (self.stale_after_s > 0, "stale_after_s must be > 0"),
            (0 <= self.max_stale_share <= 1, "max_stale_share must be in [0, 1]"),
            (self.max_requests_per_s >= 0, "max_requests_per_s must be >= 0 (0: no ceiling)"),
            (0 <= self.blocked_backoff_base_s <= self.blocked_backoff_max_s, "blocked backoff: 0 <= base <= max"),
            (0 < self.plan_fill <= 1, "plan_fill must be in (0, 1]"),
            (0 <= self.plan_growth <= 1, "plan_growth must be in [0, 1]"),
            (0 <= self.plan_max_age_h <= 168, "plan_max_age_h must be between 0 and 168"),
            (0 < self.plan_cell_deg <= 10, "plan_cell_deg must be in (0, 10]"),
            (self.cold_start_flights >= 1, "cold_start_flights must be >= 1"),
            (self.cold_start in ("zones", "grid"), f"cold_start {self.cold_start!r} is not one of zones, grid"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"extract: {message}")


@dataclass(frozen=True)
class JobConfig:
    """Everything one run needs. The run slot only says where results go; the data says when it was captured."""

    data_root: str
    run_slot: RunSlot
    source: str = "demo"  # demo | live | snapshot
    snapshot_path: str | None = None
    demo_flights: int = 20_000
    demo_seed: int = 20261122
    feed_url: str | None = None  # live: the feed endpoint FlightRadarAPI asks instead of FR24's (a proxy, a mirror)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    metrics_namespace: str | None = None  # when set, a CloudWatch success metric is published
    spark_master: str | None = None  # None: whatever spark-submit or the environment says

    def validate(self) -> JobConfig:
        """Raise ConfigError naming the first bad value; return self."""
        if not self.data_root:
            raise ConfigError("data_root is empty: give a local folder or an s3:// URI")
        if self.source not in SOURCES:
            raise ConfigError(f"source {self.source!r} is not one of {', '.join(SOURCES)}")
        if self.source == "snapshot" and not self.snapshot_path:
            raise ConfigError("source 'snapshot' needs snapshot_path")
        if self.source != "snapshot" and self.snapshot_path:
            raise ConfigError(f"snapshot_path is only used with source 'snapshot', not {self.source!r}")
        if self.feed_url is not None:
            if self.source != "live":
                raise ConfigError(f"feed_url is only used with source 'live', not {self.source!r}")
            if not self.feed_url.startswith(("http://", "https://")):
                raise ConfigError(f"feed_url {self.feed_url!r} is not an http:// or https:// URL")
        if not 1 <= self.demo_flights <= 5_000_000:
            raise ConfigError("demo_flights must be between 1 and 5,000,000")
        self.extract.validate()
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> JobConfig:
        """Build from JSON-like values (run_slot as text), refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown job config key(s): {', '.join(unknown)}")
        data = dict(values)
        if "run_slot" not in data or "data_root" not in data:
            raise ConfigError("job config needs data_root and run_slot")
        if isinstance(data["run_slot"], str):
            data["run_slot"] = RunSlot.parse(data["run_slot"])
        extract = data.get("extract", {})
        if isinstance(extract, dict):
            known_x = {f.name for f in fields(ExtractSettings)}
            bad = sorted(set(extract) - known_x)
            if bad:
                raise ConfigError(f"unknown extract setting(s): {', '.join(bad)}")
            try:
                data["extract"] = ExtractSettings(**extract)
            except TypeError as exc:
                raise ConfigError(f"extract settings: {exc}") from None
        return cls(**data).validate()

    @classmethod
    def from_json(cls, text: str, **overrides: Any) -> JobConfig:
        """Parse a JSON job config; keyword overrides (e.g. from the command line) win."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"job config is not valid JSON: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError("job config must be a JSON object")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values)

    def with_(self, **changes: Any) -> JobConfig:
        """A validated copy with some values changed."""
        return replace(self, **changes).validate()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, for the run manifest."""
        values = asdict(self)
        values["run_slot"] = str(self.run_slot)
        return values
