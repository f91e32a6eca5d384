"""The deployment's one frozen configuration, read once from the CDK context with documented defaults."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from etl.core.source_registry import canonical_source, find, source_names
from lambda_trigger.config import BACKFILL_CORE_CAPACITY, cluster_shape_problems

GIB = 1024**3
_SCHEDULE_RE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$")
_RELEASE_RE = re.compile(r"^emr-(\d+)\.(\d+)\.(\d+)$")
# The app's own keys are snake_case; CDK's feature flags (`@aws-cdk/...`), its CLI settings (`aws:cdk:...`) and
# its lookup cache (`availability-zones:account=...`) never are, and are left to CDK.
_OWN_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ARN_RE = re.compile(r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)/\S+$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,254}$")
JOB_SOURCES = source_names(deployable=True)  # the sources a schedule can read (etl/core/source_registry.py)
# Short context keys: `cdk deploy -c source=fr24api` or `-c sources=flightradarapi,fr24api`; they win over cdk.json.
_CONTEXT_ALIASES = {"source": "job_source", "sources": "job_sources"}


class InfraConfigError(ValueError):
    """A context value that cannot be deployed; raised at synth time, before anything reaches AWS."""


@dataclass(frozen=True)
class PipelineConfig:
    """Every deploy-time choice. Each field is a CDK context key of the same name (`cdk deploy -c key=value`)."""

    schedule: str = "rate(2 hours)"  # EventBridge schedule expression of the trigger
    emr_release: str = "emr-7.13.0"  # Spark 3.5.6 and /usr/bin/python3.11
    primary_instance_types: tuple[str, ...] = ("m7g.xlarge", "m6g.xlarge")  # the lowest-priced that has capacity
    primary_market: str = "on-demand"  # or spot: cheaper, but an interruption fails the run (the next slot retries)
    core_instance_types: tuple[str, ...] = ("m7g.xlarge", "m6g.xlarge", "r7g.xlarge")  # Spot, on-demand fallback
    core_capacity: int = 0  # core instances; 0: the primary node runs the whole job (a snapshot needs no more)
    backfill_core_capacity: int = 4  # core instances of a backfill cluster (one cluster for a range of slots)
    idle_timeout_minutes: int = 30  # auto-termination safety net for a cluster left idle
    raw_retention_days: int = 3  # raw/ objects expire after this many days
    alarm_email: str | None = None  # subscribed to the alarm topic when set
    vpc_id: str | None = None  # an existing VPC (needs `subnet_ids`); default: a new VPC without NAT gateway
    subnet_ids: tuple[str, ...] = ()  # subnets of `vpc_id` with a route to the internet
    check_subnet_tags: bool = True  # read `subnet_ids` at synth time and refuse untagged ones (infra/network.py)
    quicksight_principal_arn: str | None = None  # QuickSight user/group ARN: the dashboard is deployed when set
    athena_bytes_scanned_cutoff: int = 10 * GIB  # per-query cap of the Athena workgroup
    database_name: str = "flight_kpis"  # Glue database of the Athena tables
    job_source: str = "live"  # live: the FlightRadar24 feed; demo: the simulated world (no internet needed)
    job_sources: tuple[str, ...] = ()  # failover order (e.g. flightradarapi,fr24api); when given, replaces job_source
    metrics_namespace: str = "FlightKpis"  # where the job publishes SuccessfulRuns
    # mapping -> floor (0..1) over the job's defaults (etl/core/config.py DEFAULT_COVERAGE_FLOORS), e.g.
    # `-c coverage_floors=airline_name=0.7`: the deployed job config's quality gate and the coverage alarms both read it
    coverage_floors: dict[str, float] = field(default_factory=dict)
    log_retention_days: int = 30  # trigger Lambda log retention
    project: str = "flight-kpis"  # resource name prefix and `project` tag

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InfraConfigError naming the first bad value."""
        checks = [
            (
                bool(_SCHEDULE_RE.match(self.schedule)),
                f"schedule {self.schedule!r} is not rate(N unit) or cron(6 fields)",
            ),
            (self._release_ok(), f"emr_release {self.emr_release!r} is not emr-7.x.y or later (needs python3.11)"),
            (
                BACKFILL_CORE_CAPACITY[0] <= self.backfill_core_capacity <= BACKFILL_CORE_CAPACITY[1],
                f"backfill_core_capacity {self.backfill_core_capacity} is not between {BACKFILL_CORE_CAPACITY[0]} and "
                f"{BACKFILL_CORE_CAPACITY[1]}",
            ),
            (1 <= self.raw_retention_days <= 3650, "raw_retention_days must be between 1 and 3650"),
            (
                self.alarm_email is None or bool(_EMAIL_RE.match(self.alarm_email)),
                f"alarm_email {self.alarm_email!r} is not an e-mail address",
            ),
            ((self.vpc_id is None) == (not self.subnet_ids), "vpc_id and subnet_ids go together: give both or none"),
            (
                self.vpc_id is None or bool(re.match(r"^vpc-[0-9a-f]+$", self.vpc_id)),
                f"vpc_id {self.vpc_id!r} is not a VPC id",
            ),
            (
                all(re.match(r"^subnet-[0-9a-f]+$", s) for s in self.subnet_ids),
                f"subnet_ids {','.join(self.subnet_ids)!r} are not all subnet ids",
            ),
            (
                self.quicksight_principal_arn is None or bool(_ARN_RE.match(self.quicksight_principal_arn)),
                f"quicksight_principal_arn {self.quicksight_principal_arn!r} is not a QuickSight user or group ARN",
            ),
            (
                10 * 1024**2 <= self.athena_bytes_scanned_cutoff <= 7 * 1024**5,
                "athena_bytes_scanned_cutoff must be between 10 MiB and 7 PiB (bytes)",
            ),
            (bool(_NAME_RE.match(self.database_name)), f"database_name {self.database_name!r} is not a Glue name"),
            (self.job_source in JOB_SOURCES, f"job_source {self.job_source!r} is not one of {', '.join(JOB_SOURCES)}"),
            (
                all(s in JOB_SOURCES for s in self.job_sources) and len(set(self.job_sources)) == len(self.job_sources),
                f"job_sources {','.join(self.job_sources)!r} must name distinct sources of {', '.join(JOB_SOURCES)}",
            ),
            (bool(re.match(r"^[A-Za-z0-9/_.#:-]{1,255}$", self.metrics_namespace)), "metrics_namespace is invalid"),
            (self.log_retention_days in _LOG_RETENTIONS, f"log_retention_days must be one of {_LOG_RETENTIONS}"),
            (bool(re.match(r"^[a-z][a-z0-9-]{1,30}$", self.project)), f"project {self.project!r} is not a-z0-9-"),
        ]
        # The cluster's shape has the trigger's limits, checked by the trigger's own code.
        shape = cluster_shape_problems(
            primary_instance_types=self.primary_instance_types,
            core_instance_types=self.core_instance_types,
            primary_market=self.primary_market,
            core_capacity=self.core_capacity,
            idle_timeout_s=self.idle_timeout_minutes * 60,
        )
        checks[2:2] = [(False, reason) for _, reason in shape]
        for ok, message in checks:
            if not ok:
                raise InfraConfigError(message)
        self.quality_settings()  # the floors, checked by the job's own rules

    def quality_settings(self) -> Any:
        """The job config's `quality` section (etl.core.config.QualitySettings) with this deployment's coverage
        floors."""
        from etl.core.config import ConfigError, QualitySettings

        settings = QualitySettings(coverage_floors=dict(self.coverage_floors))
        try:
            settings.validate()
        except ConfigError as exc:
            raise InfraConfigError(f"coverage_floors: {exc}") from None
        return settings

    @property
    def source_order(self) -> tuple[str, ...]:
        """The sources the job tries, in order."""
        return self.job_sources or (self.job_source,)

    @property
    def token_secrets(self) -> dict[str, str]:
        """Source -> the Secrets Manager secret holding its API token, for each source of the order that needs one."""
        names = (canonical_source(name) for name in self.source_order)
        return {name: f"{self.project}/{name}-token" for name in names if (found := find(name)) and found.token}

    def _release_ok(self) -> bool:
        match = _RELEASE_RE.match(self.emr_release)
        return match is not None and int(match.group(1)) >= 7

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> PipelineConfig:
        """Build from the CDK context (`node.get_all_context()`); values given on the command line arrive as text."""
        known = [spec.name for spec in fields(cls)] + list(_CONTEXT_ALIASES)
        for key in sorted(context):
            if _OWN_KEY_RE.match(key) and key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise InfraConfigError(f"{key} is not a context key of this app{hint}; infra/config.py lists them")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = context.get(spec.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue  # absent or empty: the documented default
            values[spec.name] = _coerce(spec.name, raw, spec.type)
        types = {spec.name: spec.type for spec in fields(cls)}
        for alias, name in _CONTEXT_ALIASES.items():
            raw = context.get(alias)
            if raw is not None and not (isinstance(raw, str) and not raw.strip()):
                values[name] = _coerce(alias, raw, types[name])
        return cls(**values)


_LOG_RETENTIONS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3653)


def _coerce(name: str, raw: Any, annotation: Any) -> Any:
    text = str(annotation)
    if text.startswith("dict"):
        return _floors(name, raw)
    if text.startswith("tuple"):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if text == "bool":
        if isinstance(raw, bool):
            return raw
        if str(raw).strip().lower() in ("true", "false"):
            return str(raw).strip().lower() == "true"
        raise InfraConfigError(f"{name} must be true or false, got {raw!r}")
    if text == "int":
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise InfraConfigError(f"{name} must be a whole number, got {raw!r}")
        if isinstance(raw, float):  # JSON numbers may come back from jsii as floats
            return int(raw)
        try:
            return int(str(raw).strip())
        except ValueError:
            raise InfraConfigError(f"{name} must be a whole number, got {raw!r}") from None
    return str(raw).strip()


def _floors(name: str, raw: Any) -> dict[str, float]:
    """A JSON object (cdk.json), its text, or `mapping=floor,...` (the command line) -> {mapping: floor}."""
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise InfraConfigError(f"{name} is not a JSON object: {raw!r}") from None
    if isinstance(raw, str):
        pairs = [part.split("=", 1) for part in raw.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise InfraConfigError(f"{name} must be mapping=floor pairs, e.g. airline_name=0.7, got {raw!r}")
        raw = {key.strip(): value.strip() for key, value in pairs}
    if not isinstance(raw, dict):
        raise InfraConfigError(f"{name} must be an object of mapping -> floor, got {raw!r}")
    floors = {}
    for key, value in raw.items():
        try:
            floors[str(key)] = float(value)
        except (TypeError, ValueError):
            raise InfraConfigError(f"{name}: floor {key}={value!r} is not a number") from None
    return floors
