"""One synthesis of the CDK app for the whole session (jsii makes each one cost seconds), shared by the infra tests."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@dataclass(frozen=True)
class Synthesized:
    """What one `cdk synth` produced: the output folder, the template, and the cdk-nag report."""

    outdir: Path
    stack_name: str
    template: dict[str, Any]
    nag_report: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for one CloudFormation type."""
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == resource_type}


# A stand-in for `make wheels` (which needs the package index): one wheel and a lock that pins it with its hash.
FAKE_WHEEL = "tinypkg-1.0-py3-none-any.whl"


def fake_wheelhouse(root: Path) -> tuple[Path, Path]:
    """(lock, wheels folder) with one wheel whose sha256 the lock carries."""
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    content = b"a wheel's bytes"
    (wheels / FAKE_WHEEL).write_bytes(content)
    lock = root / "cluster.txt"
    lock.write_text(f"tinypkg==1.0 \\\n    --hash=sha256:{hashlib.sha256(content).hexdigest()}\n")
    return lock, wheels


def synthesize(outdir: Path, **context: object) -> Synthesized:
    """Synthesize the app as the CLI would (cdk.json context, cdk-nag on), with context overrides."""
    import aws_cdk as cdk

    from infra.app import build_app, cdk_json_context

    lock, wheels = fake_wheelhouse(outdir / "wheelhouse")
    app, stack = build_app(
        cdk.App(outdir=str(outdir), context=cdk_json_context(**context)),
        build_dir=outdir / "build",
        cluster_lock=lock,
        wheels_dir=wheels,
    )
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    report = json.loads((outdir / "validation-report.json").read_text())
    (nag,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return Synthesized(outdir=outdir, stack_name=stack.stack_name, template=template, nag_report=nag)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default deployment (cdk.json context), with an alarm e-mail."""
    return synthesize(tmp_path_factory.mktemp("cdk_out"), alarm_email="oncall@example.com")


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Any:
    """The synthesized template as a CDK assertions Template."""
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized.template)
