"""CDK entry point (`cdk.json`: `python -m infra.app`): context -> PipelineConfig -> FlightKpisStack."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import InfraConfigError, PipelineConfig
from infra.dependencies import CLUSTER_LOCK, WHEELHOUSE, LockError
from infra.network import check_subnet_tags
from infra.stack import FlightKpisStack

STACK_NAME = "FlightKpis"
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context(**overrides: object) -> dict[str, object]:
    """The context of cdk.json (defaults and feature flags), as the CDK CLI passes it, with overrides on top."""
    context = dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))
    context.update(overrides)
    return context


def build_app(
    app: cdk.App | None = None,
    *,
    build_dir: Path | None = None,
    cluster_lock: Path = CLUSTER_LOCK,
    wheels_dir: Path = WHEELHOUSE,
) -> tuple[cdk.App, FlightKpisStack]:
    """Read the context once, check an existing VPC's subnets, build the stack (wheels from `make wheels`) and run
    the cdk-nag checks on it."""
    app = app or cdk.App()
    config = PipelineConfig.from_context(app.node.get_all_context())
    # An explicit environment only when the CLI knows it; the template stays account-agnostic otherwise.
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else None
    check_subnet_tags(config, region=region)  # an existing VPC's subnets, read from the account
    stack = FlightKpisStack(
        app,
        STACK_NAME,
        config=config,
        build_dir=build_dir or Path(tempfile.mkdtemp(prefix="flight-kpis-build-")),
        cluster_lock=cluster_lock,
        wheels_dir=wheels_dir,
        env=env,
        description="FlightRadar24 flight KPIs every two hours: EventBridge, Lambda, transient EMR, S3, Athena",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack


def main() -> int:
    """Synthesize; a bad context value or missing cluster wheels end in one line on stderr and exit code 2."""
    # A wheelhouse and its lock kept elsewhere (a CI cache, or a test's stand-in) instead of `make wheels`' folder.
    lock = Path(os.environ.get("FLIGHT_KPIS_CLUSTER_LOCK") or CLUSTER_LOCK)
    wheels = Path(os.environ.get("FLIGHT_KPIS_WHEELS_DIR") or WHEELHOUSE)
    try:
        app, _ = build_app(cluster_lock=lock, wheels_dir=wheels)
    except InfraConfigError as exc:
        print(f"error: cdk context: {exc}", file=sys.stderr)
        return 2
    except LockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
