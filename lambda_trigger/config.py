"""The trigger's settings, read from the environment variables the stack sets on the function."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# The cluster shape's limits, in one place: the stack checks a deployment against them at synth time
# (infra/config.py) and the trigger checks its environment against them before it asks EMR for anything.
MARKETS = ("on-demand", "spot")
CORE_CAPACITY_MAX = 64  # core instances; 0 runs the job on the primary node alone
BACKFILL_CORE_CAPACITY = (1, CORE_CAPACITY_MAX)  # core instances of a backfill cluster: it always has a core fleet
IDLE_TIMEOUT_S = (60, 604_800)  # EMR's AutoTerminationPolicy accepts 1 minute to 7 days
# Graviton (arm64) families carry a `g` after the generation number: m7g, r6gd, c7gn ... The cluster's wheels are
# built for aarch64 (requirements/cluster.txt), so another architecture could not even bootstrap.
_GRAVITON_RE = re.compile(r"^[a-z]+\d+g[a-z]*\.(\d*x?large|medium|metal)$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")  # us-east-1, eu-central-2, us-gov-west-1, cn-north-1

# Environment variable -> TriggerConfig field: the one place the names are written. The stack sets them through
# `environment_for` (infra/stack.py), which the Lambda package cannot import back, so infra imports them from here.
ENV_VARS = {
    "PROJECT": "project",
    "EMR_RELEASE_LABEL": "release_label",
    "EMR_LOG_URI": "log_uri",
    "EMR_SERVICE_ROLE": "service_role",
    "EMR_INSTANCE_PROFILE": "instance_profile",
    "EMR_SECURITY_CONFIGURATION": "security_configuration",
    "EMR_SUBNET_IDS": "subnet_ids",
    "EMR_PRIMARY_SECURITY_GROUP": "primary_security_group",
    "EMR_CORE_SECURITY_GROUP": "core_security_group",
    "EMR_SERVICE_ACCESS_SECURITY_GROUP": "service_access_security_group",
    "EMR_PRIMARY_INSTANCE_TYPES": "primary_instance_types",
    "EMR_PRIMARY_MARKET": "primary_market",
    "EMR_CORE_INSTANCE_TYPES": "core_instance_types",
    "EMR_CORE_CAPACITY": "core_capacity",
    "EMR_IDLE_TIMEOUT_SECONDS": "idle_timeout_s",
    "JOB_MAIN_URI": "main_uri",
    "JOB_CODE_URI": "code_uri",
    "JOB_CONFIG_URI": "job_config_uri",
    "JOB_DATA_ROOT": "data_root",
    "BOOTSTRAP_SCRIPT_URI": "bootstrap_uri",
    "BOOTSTRAP_REQUIREMENTS_URI": "requirements_uri",
    "EMR_BACKFILL_CORE_CAPACITY": "backfill_core_capacity",
    "BOOTSTRAP_WHEELS_URI": "wheels_uri",
    "JOB_REGION": "region",
}
_VAR = {name: var for var, name in ENV_VARS.items()}  # field -> environment variable
OPTIONAL = {_VAR["service_access_security_group"]}  # set only for private subnets
_LISTS = ("subnet_ids", "primary_instance_types", "core_instance_types")  # comma-separated
_INTEGERS = ("core_capacity", "idle_timeout_s")


class TriggerConfigError(ValueError):
    """An environment variable the trigger needs is missing or unusable."""


def cluster_shape_problems(
    *,
    primary_instance_types: tuple[str, ...],
    core_instance_types: tuple[str, ...],
    primary_market: str,
    core_capacity: int,
    idle_timeout_s: int,
) -> list[tuple[str, str]]:
    """(setting, reason) for each limit the shape breaks; the stack and the trigger both ask here."""
    problems = []
    if primary_market not in MARKETS:
        problems.append(("primary_market", f"primary_market {primary_market!r} is not one of {', '.join(MARKETS)}"))
    if not 0 <= core_capacity <= CORE_CAPACITY_MAX:
        reason = f"core_capacity {core_capacity} is not between 0 (the primary node alone) and {CORE_CAPACITY_MAX}"
        problems.append(("core_capacity", reason))
    low, high = IDLE_TIMEOUT_S
    if not low <= idle_timeout_s <= high:
        problems.append(("idle_timeout", f"idle timeout {idle_timeout_s} s is not between {low} s and {high} s"))
    for setting, types in (
        ("primary_instance_types", primary_instance_types),
        ("core_instance_types", core_instance_types),
    ):
        if not types:
            problems.append((setting, f"{setting} is empty"))
        for instance_type in types:
            if not _GRAVITON_RE.match(instance_type):
                reason = f"instance type {instance_type!r} is not a Graviton (arm64) type such as m7g.xlarge"
                problems.append((setting, reason))
    return problems


@dataclass(frozen=True)
class TriggerConfig:
    """Where everything a run needs lives, and the shape of its cluster."""

    project: str  # cluster name prefix and `project` tag
    release_label: str
    log_uri: str
    service_role: str
    instance_profile: str
    security_configuration: str
    subnet_ids: tuple[str, ...]
    primary_security_group: str
    core_security_group: str
    service_access_security_group: str | None  # only for private subnets
    primary_instance_types: tuple[str, ...]
    primary_market: str  # on-demand or spot
    core_instance_types: tuple[str, ...]
    core_capacity: int  # 0: no core fleet, the primary node runs the whole job
    idle_timeout_s: int
    main_uri: str
    code_uri: str
    job_config_uri: str
    data_root: str
    bootstrap_uri: str
    requirements_uri: str
    backfill_core_capacity: int  # core instances of a backfill cluster (one for a whole range of slots)
    wheels_uri: str  # a zip of the wheels of requirements_uri: the bootstrap installs from it, never from PyPI
    region: str  # the stack's region: the cluster exports it to the job, whose AWS clients need it

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TriggerConfig:
        """Read and check every setting; raise TriggerConfigError naming the first bad variable."""
        values: dict[str, object] = {}
        for var, name in ENV_VARS.items():
            raw = environ.get(var, "").strip()
            if not raw and var not in OPTIONAL:
                raise TriggerConfigError(f"environment variable {var} is not set")
            values[name] = raw or None
        for name in _LISTS:
            var = _VAR[name]
            items = tuple(part.strip() for part in environ[var].split(",") if part.strip())
            if not items:
                raise TriggerConfigError(f"environment variable {var} lists nothing")
            values[name] = items
        for name in _INTEGERS:
            var = _VAR[name]
            try:
                values[name] = int(environ[var])
            except ValueError:
                raise TriggerConfigError(f"environment variable {var}={environ[var]!r} is not an integer") from None
        values["backfill_core_capacity"] = _bounded(environ, _VAR["backfill_core_capacity"], *BACKFILL_CORE_CAPACITY)
        if not _REGION_RE.match(str(values["region"])):
            raise TriggerConfigError(f"environment variable {_VAR['region']}={values['region']!r} is not an AWS region")
        config = cls(**values)  # type: ignore[arg-type]
        problems = cluster_shape_problems(
            primary_instance_types=config.primary_instance_types,
            core_instance_types=config.core_instance_types,
            primary_market=config.primary_market,
            core_capacity=config.core_capacity,
            idle_timeout_s=config.idle_timeout_s,
        )
        if problems:
            setting, reason = problems[0]
            var = _SHAPE_VARS[setting]
            raise TriggerConfigError(f"environment variable {var}={environ[var].strip()!r}: {reason}")
        return config


# The variable that carries each setting cluster_shape_problems names.
_SHAPE_VARS = {
    "primary_market": _VAR["primary_market"],
    "core_capacity": _VAR["core_capacity"],
    "idle_timeout": _VAR["idle_timeout_s"],
    "primary_instance_types": _VAR["primary_instance_types"],
    "core_instance_types": _VAR["core_instance_types"],
}


def environment_for(settings: Mapping[str, str]) -> dict[str, str]:
    """The function's environment from TriggerConfig field -> text, in the given order, named as from_env reads it."""
    unknown = [name for name in settings if name not in _VAR]
    missing = [name for name, var in _VAR.items() if name not in settings and var not in OPTIONAL]
    if unknown or missing:
        problems = [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
        problems += [f"no value for {', '.join(missing)}"] if missing else []
        raise TriggerConfigError(f"trigger environment: {'; '.join(problems)}")
    return {_VAR[name]: value for name, value in settings.items()}


def _bounded(environ: Mapping[str, str], var: str, low: int, high: int) -> int:
    try:
        number = int(environ[var])
    except ValueError:
        raise TriggerConfigError(f"environment variable {var}={environ[var]!r} is not an integer") from None
    if not low <= number <= high:
        raise TriggerConfigError(f"environment variable {var}={number} is not between {low} and {high}")
    return number
