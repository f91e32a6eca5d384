"""The job's one typed configuration, validated up front with a clear error."""

from __future__ import annotations

import json
import math
import os
import re
import types
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from etl.core.layout import WAREHOUSE, RunSlot, join
from etl.core.source_registry import FR24API_TOKEN, SOURCE_ALIASES, SOURCES, canonical_source, source

FR24API_MAX_LIMIT = 30_000  # the most flights one live flight-positions request of the official API may ask for


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
    # The circuit breaker (etl/extract/tiling.py): this many refusals in a row (403, 429, a Cloudflare challenge, a
    # non-JSON page where JSON was expected, 401) and the source is unusable for the run at once, no further
    # request sent. With the defaults (4 at once, 2 per second, a first blocked backoff of 2.5-5 s) a blocked web
    # feed is given up within about 10 s and 5 + 3 requests, and the next source of the failover list serves.
    max_refusals_in_a_row: int = 5
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
        check_types(self, "extract")
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
            (1 <= self.max_refusals_in_a_row <= 100, "max_refusals_in_a_row must be between 1 and 100"),
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


# Floors: each well below the lowest coverage measured on the 13 real captures of July 2025 (1,500 rows each;
# README "Quality gate" lists every figure): airports and routes 98.5-100 %, airline names 90.2-92.9 % (the
# project's table only), airline countries 99.8-100 % (the table, then the aircraft's registrations), aircraft types
# 100 %. Those captures lean to long-haul wide-bodies; a whole-world snapshot has more regional and general aviation
# traffic, hence the margin. A floor catches a broken or missing reference, not the long tail.
DEFAULT_COVERAGE_FLOORS: dict[str, float] = {
    "origin_airport": 0.90,
    "destination_airport": 0.90,
    "route_distance": 0.90,
    "origin_continent": 0.90,
    "destination_continent": 0.90,
    "airline_name": 0.75,
    "airline_country": 0.90,
    "aircraft_manufacturer": 0.90,
    "aircraft_model": 0.90,
}


@dataclass(frozen=True)
class QualitySettings:
    """The quality gate between the KPIs and publication (`etl.quality.gate`); README "Quality gate" says why each
    value."""

    min_silver_rows: int = 1  # usable rows after cleaning
    min_live_flights: int = 1  # airborne aircraft
    max_quarantine_share: float = 0.05  # quarantined rows over raw rows
    # mapping -> floor (0..1) over the live flights carrying the code it maps; merged over the defaults, 0 disables
    coverage_floors: dict[str, float] = field(default_factory=dict)
    check_kpi_inputs: bool = True  # fail when a column a KPI needs is absent from the capture
    allow_degraded: bool = False  # publish a failing slot anyway, with status `degraded`
    # Volume (etl.quality.gate.check_volume), against the live flights of earlier successful runs (their manifests). A
    # re-run of a slot with a successful run needs this share of that run's live flights: a partial capture never
    # replaces a whole one by default (1 row against 1,500 is 0.07 %).
    min_share_of_published: float = 0.5
    # A slot without one needs this share of the median of the last volume_history_runs successful runs (any slot):
    # world traffic swings about 2:1 between its daily low and high, so a quarter of the median is a broken capture,
    # not a quiet hour. Judged only once volume_min_history runs are there to take a median of. 0 turns a check off.
    min_share_of_median: float = 0.25
    volume_history_runs: int = 12  # a day of two-hourly runs
    volume_min_history: int = 3

    def floors(self) -> dict[str, float]:
        """Every mapping's floor: the defaults, overridden by coverage_floors."""
        return {**DEFAULT_COVERAGE_FLOORS, **self.coverage_floors}

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value."""
        if not isinstance(self.coverage_floors, dict):
            raise ConfigError("quality: coverage_floors must be an object of mapping -> floor")
        check_types(self, "quality")
        unknown = sorted(set(self.coverage_floors) - set(DEFAULT_COVERAGE_FLOORS))
        if unknown:
            raise ConfigError(
                f"quality: unknown coverage floor(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_COVERAGE_FLOORS)}"
            )
        checks = [
            (_is_int(self.min_silver_rows) and self.min_silver_rows >= 0, "min_silver_rows must be an integer >= 0"),
            (_is_int(self.min_live_flights) and self.min_live_flights >= 0, "min_live_flights must be an integer >= 0"),
            (_is_share(self.max_quarantine_share), "max_quarantine_share must be in [0, 1]"),
            (isinstance(self.check_kpi_inputs, bool), "check_kpi_inputs must be true or false"),
            (isinstance(self.allow_degraded, bool), "allow_degraded must be true or false"),
            (_is_share(self.min_share_of_published), "min_share_of_published must be in [0, 1]"),
            (_is_share(self.min_share_of_median), "min_share_of_median must be in [0, 1]"),
            (1 <= self.volume_history_runs <= 1000, "volume_history_runs must be between 1 and 1000"),
            (1 <= self.volume_min_history <= self.volume_history_runs, "volume_min_history: 1 <= it <= runs"),
        ]
        checks += [(_is_share(v), f"coverage floor {k} must be in [0, 1]") for k, v in self.coverage_floors.items()]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"quality: {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_share(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _describe(hint: Any) -> str:
    """What a field's type asks for, in the config's own (JSON) words."""
    if hint is type(None):
        return "null"
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(h) for h in get_args(hint))
    if get_origin(hint) is tuple:
        return "a list of " + _describe(get_args(hint)[0]).removeprefix("a ").removeprefix("an ") + "s"
    if get_origin(hint) is dict:
        return "an object of " + _describe(get_args(hint)[1]).removeprefix("a ").removeprefix("an ") + "s"
    if is_dataclass(hint):
        return "a run slot YYYY-MM-DDTHH" if hint is RunSlot else "an object"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(hint, str(hint))


def _is_of(value: Any, hint: Any) -> bool:
    """True when a value is of a field's type: bool is not a number, a number must be finite, an int is a float."""
    if hint is type(None):
        return value is None
    if get_origin(hint) in (Union, types.UnionType):
        return any(_is_of(value, h) for h in get_args(hint))
    if get_origin(hint) is tuple:
        return isinstance(value, tuple) and all(_is_of(v, get_args(hint)[0]) for v in value)
    if get_origin(hint) is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(_is_of(k, key) and _is_of(v, item) for k, v in value.items())
    if hint is int:
        return _is_int(value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, hint)


def check_types(settings: Any, section: str = "") -> None:
    """Raise ConfigError naming the first field whose value is not of its declared type (`extract.tile_cap`)."""
    hints = get_type_hints(type(settings))
    for item in fields(settings):
        value = getattr(settings, item.name)
        if not _is_of(value, hints[item.name]):
            name = f"{section}.{item.name}" if section else item.name
            shown = json.dumps(list(value) if isinstance(value, tuple) else value, default=str)
            raise ConfigError(f"{name} must be {_describe(hints[item.name])}, not {shown}")


def check_data_root(data_root: str, *, write: bool = True) -> None:
    """Refuse a local data root that is a file, under a file, or (`write`) a folder this process cannot write.

    An s3:// URI is left to the first request. A folder that does not exist yet is fine when its nearest existing
    parent is a writable folder: the run creates it.
    """
    if data_root.startswith("s3://"):
        return
    path = Path(data_root)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"is under {existing}, which is a file"
        raise ConfigError(f"data root {data_root} {where}, not a folder")
    if not write or existing is None:
        return
    if not os.access(existing, os.W_OK | os.X_OK) or not _can_create_in(existing):
        what = "is" if existing == path else f"would be created under {existing}, which is"
        raise ConfigError(f"data root {data_root} {what} not writable by this user")


def _can_create_in(folder: Path) -> bool:
    """True when a file can be created in the folder (os.access says yes to root even on a read-only mount)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            return True
    except OSError:
        return False


def _settings(cls: Any, section: str, values: Any) -> Any:
    """A settings dataclass from a JSON object, refusing unknown keys with a one-line error."""
    if not isinstance(values, dict):
        raise ConfigError(f"{section} must be an object of settings, not {json.dumps(values, default=str)}")
    known = {f.name for f in fields(cls)}
    bad = sorted(set(values) - known)
    if bad:
        raise ConfigError(f"unknown {section} setting(s): {', '.join(bad)}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{section} settings: {exc}") from None


@dataclass(frozen=True)
class LakeSettings:
    """Where the Iceberg tables live: the catalog, its database (namespace) and its warehouse."""

    # hadoop: a filesystem catalog under the warehouse (local runs); glue: the AWS Glue Data Catalog (EMR).
    catalog: str = "hadoop"
    database: str = "flight_kpis"  # the Glue database on AWS (infra/config.py database_name), a namespace locally
    warehouse: str | None = None  # None: <data_root>/warehouse

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value."""
        check_types(self, "lake")
        if self.catalog not in LAKE_CATALOGS:
            raise ConfigError(f"lake.catalog {self.catalog!r} is not one of {', '.join(LAKE_CATALOGS)}")
        if not isinstance(self.database, str) or not re.fullmatch(r"[a-z0-9_]{1,255}", self.database):
            raise ConfigError(f"lake.database {self.database!r} is not a Glue database name ([a-z0-9_])")
        if self.warehouse is not None and (not isinstance(self.warehouse, str) or not self.warehouse):
            raise ConfigError("lake.warehouse must be a folder or an s3:// URI")


LAKE_CATALOGS: tuple[str, ...] = ("hadoop", "glue")


@dataclass(frozen=True)
class JobConfig:
    """Everything one run needs. The run slot only says where results go; the data says when it was captured."""

    data_root: str
    run_slot: RunSlot
    source: str = "demo"  # demo | flightradarapi (alias: live) | fr24api | snapshot; the first source tried
    sources: tuple[str, ...] = ()  # failover order, e.g. ("flightradarapi", "fr24api"); empty: `source` alone
    snapshot_path: str | None = None
    demo_flights: int = 20_000
    demo_seed: int = 20261122
    feed_url: str | None = None  # live: the feed endpoint FlightRadarAPI asks instead of FR24's (a proxy, a mirror)
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    lake: LakeSettings = field(default_factory=LakeSettings)
    metrics_namespace: str | None = None  # when set, the run's figures are published as CloudWatch metrics
    # SNS topic told the one-line reason of a failed or degraded run: an ARN, or a bare topic name resolved in the
    # account and region the job runs in (the deployed job config holds the name: the ARN is only known at deploy).
    alerts_topic: str | None = None
    spark_master: str | None = None  # None: whatever spark-submit or the environment says
    fr24api_url: str | None = (
        None  # the official API's base URL; None: fr24sdk's own (https://fr24api.flightradar24.com)
    )
    fr24api_token_env: str = FR24API_TOKEN.env_var  # environment variable holding the API token (local runs)
    fr24api_token_secret: str | None = None  # Secrets Manager name or ARN of the token (AWS); wins over the variable
    fr24api_limit: int = FR24API_MAX_LIMIT  # flights asked for per request: the tile cap of the fr24api source

    def __post_init__(self) -> None:
        # `sources` alone is enough: `source`, left at its default, names the first of them.
        if self.sources and self.source == "demo":
            object.__setattr__(self, "source", self.sources[0])

    def source_order(self) -> tuple[str, ...]:
        """The sources to try, in order, by their canonical names."""
        return tuple(canonical_source(s) for s in (self.sources or (self.source,)))

    def validate(self) -> JobConfig:
        """Raise ConfigError naming the first bad value; return self."""
        check_types(self)
        if not self.data_root:
            raise ConfigError("data_root is empty: give a local folder or an s3:// URI")
        self._validate_sources()
        if self.feed_url is not None:
            if "flightradarapi" not in self.source_order():
                raise ConfigError(f"feed_url is only used with source 'live' (flightradarapi), not {self.source!r}")
            if not self.feed_url.startswith(("http://", "https://")):
                raise ConfigError(f"feed_url {self.feed_url!r} is not an http:// or https:// URL")
        if not 1 <= self.demo_flights <= 5_000_000:
            raise ConfigError("demo_flights must be between 1 and 5,000,000")
        self.extract.validate()
        self.quality.validate()
        self.lake.validate()
        if self.alerts_topic is not None and not re.fullmatch(
            r"(arn:[\w-]+:sns:[\w-]+:\d{12}:)?[\w-]{1,256}", self.alerts_topic
        ):
            raise ConfigError(f"alerts_topic {self.alerts_topic!r} is neither an SNS topic ARN nor a topic name")
        return self

    def _validate_sources(self) -> None:
        names = ", ".join((*SOURCES, *SOURCE_ALIASES))
        for name in (self.source, *self.sources):
            if canonical_source(name) not in SOURCES:
                raise ConfigError(f"source {name!r} is not one of {names}")
        order = self.source_order()
        if self.sources and canonical_source(self.source) != order[0]:
            raise ConfigError(f"source {self.source!r} is not the first of sources {list(self.sources)}: drop one")
        if len(set(order)) != len(order):
            raise ConfigError(f"sources {list(self.sources)} name a source twice")
        if "snapshot" in order and not self.snapshot_path:
            raise ConfigError("source 'snapshot' needs snapshot_path")
        if "snapshot" not in order and self.snapshot_path:
            raise ConfigError(f"snapshot_path is only used with source 'snapshot', not {self.source!r}")
        if not 1 <= self.fr24api_limit <= FR24API_MAX_LIMIT:
            raise ConfigError(f"fr24api_limit must be between 1 and {FR24API_MAX_LIMIT:,}")
        if self.fr24api_url is not None and not self.fr24api_url.startswith(("http://", "https://")):
            raise ConfigError(f"fr24api_url {self.fr24api_url!r} is not an http(s) URL")
        # The token itself is never read here beyond "is it set", and never put in a message.
        for name in order:
            token = source(name).token
            if token is None or getattr(self, token.secret_key):
                continue
            variable = getattr(self, token.env_key)
            if not os.environ.get(variable):
                raise ConfigError(
                    f"source {name!r} needs an API token: set the {variable} environment variable "
                    f"(or {token.secret_key}, a Secrets Manager secret, on AWS)"
                )

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
        sources = data.get("sources") or ()
        if isinstance(sources, str):
            sources = [s for s in (part.strip() for part in sources.split(",")) if s]
        if not isinstance(sources, (list, tuple)) or not all(isinstance(s, str) for s in sources):
            raise ConfigError('sources must be a list of source names, e.g. ["flightradarapi", "fr24api"]')
        data["sources"] = tuple(sources)
        if sources and "source" in data and canonical_source(str(data["source"])) != canonical_source(sources[0]):
            raise ConfigError(f"source {data['source']!r} is not the first of sources {list(sources)}: drop one")
        data["extract"] = _settings(ExtractSettings, "extract", data.get("extract", {}))
        data["quality"] = _settings(QualitySettings, "quality", data.get("quality", {}))
        data["lake"] = _settings(LakeSettings, "lake", data.get("lake", {}))
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values, for the run manifest."""
        values = asdict(self)
        values["run_slot"] = str(self.run_slot)
        values["sources"] = list(self.sources)  # as JSON reads it back
        return values

    @property
    def warehouse(self) -> str:
        """The Iceberg warehouse: lake.warehouse, else `<data_root>/warehouse`."""
        return self.lake.warehouse or join(self.data_root, WAREHOUSE)
