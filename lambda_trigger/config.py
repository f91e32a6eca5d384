"""The trigger's settings, read from the environment variables the stack sets on the function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Environment variable -> field; every one is set by infra/constructs/trigger.py.
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
}
OPTIONAL = {"EMR_SERVICE_ACCESS_SECURITY_GROUP"}


class TriggerConfigError(ValueError):
    """An environment variable the trigger needs is missing or unusable."""


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
    core_instance_types: tuple[str, ...]
    core_capacity: int
    idle_timeout_s: int
    main_uri: str
    code_uri: str
    job_config_uri: str
    data_root: str
    bootstrap_uri: str
    requirements_uri: str
    backfill_core_capacity: int  # core instances of a backfill cluster (one for a whole range of slots)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TriggerConfig:
        """Read and check every setting; raise TriggerConfigError naming the first bad variable."""
        values: dict[str, object] = {}
        for var, name in ENV_VARS.items():
            raw = environ.get(var, "").strip()
            if not raw and var not in OPTIONAL:
                raise TriggerConfigError(f"environment variable {var} is not set")
            values[name] = raw or None
        for var in ("EMR_SUBNET_IDS", "EMR_PRIMARY_INSTANCE_TYPES", "EMR_CORE_INSTANCE_TYPES"):
            items = tuple(part.strip() for part in environ[var].split(",") if part.strip())
            if not items:
                raise TriggerConfigError(f"environment variable {var} lists nothing")
            values[ENV_VARS[var]] = items
        for var, low, high in (("EMR_CORE_CAPACITY", 1, 256), ("EMR_IDLE_TIMEOUT_SECONDS", 60, 604_800)):
            try:
                number = int(environ[var])
            except ValueError:
                raise TriggerConfigError(f"environment variable {var}={environ[var]!r} is not an integer") from None
            if not low <= number <= high:
                raise TriggerConfigError(f"environment variable {var}={number} is not between {low} and {high}")
            values[ENV_VARS[var]] = number
        values["backfill_core_capacity"] = _bounded(environ, "EMR_BACKFILL_CORE_CAPACITY", 1, 256)
        return cls(**values)  # type: ignore[arg-type]


def _bounded(environ: Mapping[str, str], var: str, low: int, high: int) -> int:
    try:
        number = int(environ[var])
    except ValueError:
        raise TriggerConfigError(f"environment variable {var}={environ[var]!r} is not an integer") from None
    if not low <= number <= high:
        raise TriggerConfigError(f"environment variable {var}={number} is not between {low} and {high}")
    return number
