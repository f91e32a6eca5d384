"""The template passes cdk-nag (every acknowledgement with a reason), cfn-lint, and the pinned CDK CLI's synth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized, fake_wheelhouse
from tests.paths import REPO

CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_cdk_nag_finds_nothing_beyond_acknowledged_findings(synthesized: Synthesized) -> None:
    report = synthesized.nag_report

    assert report["conclusion"] == "success"
    assert report["violations"] == []
    for finding in report["suppressedViolations"]:
        assert len(finding["reason"].split()) >= 8, finding["ruleName"]  # a reason, not a placeholder
    acknowledged = {f["ruleName"].split("[")[0] for f in report["suppressedViolations"]}
    assert acknowledged == {"AwsSolutions-IAM4", "AwsSolutions-IAM5"}  # managed policies and scoped wildcards only


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    template = synthesized.outdir / f"{synthesized.stack_name}.template.json"
    done = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--regions", "us-east-1", "--", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 4, 8, 12), done.stderr[-2000:] or done.stdout[-2000:]  # 2 would mean errors
    errors = [f for f in json.loads(done.stdout) if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:3000]


@pytest.mark.slow
@pytest.mark.skipif(not CDK_CLI.exists(), reason="node_modules/.bin/cdk is missing: run `npm ci` (make test does)")
def test_pinned_cdk_cli_synthesizes_the_app(tmp_path: Path) -> None:
    version = subprocess.run([str(CDK_CLI), "--version"], capture_output=True, text=True, timeout=120)
    assert version.stdout.startswith("2.1148.1")

    env = dict(
        os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_VERSION_CHECK="1"
    )
    env.pop("CDK_DEFAULT_ACCOUNT", None)
    # `make wheels` needs the package index: the synth gets a stand-in wheelhouse whose lock pins its one wheel.
    lock, wheels = fake_wheelhouse(tmp_path / "wheelhouse")
    env.update(FLIGHT_KPIS_CLUSTER_LOCK=str(lock), FLIGHT_KPIS_WHEELS_DIR=str(wheels))
    done = subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--quiet",
            "--no-notices",
            "--output",
            str(tmp_path / "cdk.out"),
            "-c",
            "alarm_email=ops@example.com",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    template = json.loads((tmp_path / "cdk.out" / "FlightKpis.template.json").read_text())
    subscriptions = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    assert [s["Properties"]["Endpoint"] for s in subscriptions] == ["ops@example.com"]


@pytest.mark.slow
@pytest.mark.skipif(not CDK_CLI.exists(), reason="node_modules/.bin/cdk is missing: run `npm ci` (make test does)")
def test_bad_context_value_stops_the_synth_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=REPO,
        env={**env, "CDK_CONTEXT_JSON": json.dumps({"raw_retention_days": "three"}), "CDK_OUTDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1]
        == "error: cdk context: raw_retention_days must be a whole number, got 'three'"
    )
