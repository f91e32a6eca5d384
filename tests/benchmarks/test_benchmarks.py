"""Every benchmark and script still starts: its imports resolve against today's modules and its options parse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

SCRIPTS = sorted([*REPO.glob("benchmarks/*.py"), *REPO.glob("scripts/*.py")])


def test_the_scripts_are_found() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"backfill.py", "demo_time.py", "extract_coverage.py", "reference_coverage.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_starts_and_prints_its_usage(script: Path) -> None:
    # `--help` imports every module the script needs and exits before any work: a renamed or moved name fails here,
    # not on the day somebody runs the benchmark.
    done = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: "), done.stdout[:200]
