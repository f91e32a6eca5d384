"""The command line: clear one-line errors before anything is written, and the snapshot path on real captures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from etl.cli import main
from tests.paths import SAMPLES


def test_bad_run_slot_stops_before_any_write(tmp_path: Path, capsys) -> None:
    code = main(["run", "--data-root", str(tmp_path / "lake"), "--run-slot", "2026-11-22 14h"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: run slot '2026-11-22 14h' is not of the form YYYY-MM-DDTHH")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "lake").exists()


def test_malformed_config_file_stops_before_any_write(tmp_path: Path, capsys) -> None:
    config = tmp_path / "job.json"
    config.write_text('{"source": "demo", "extract": {"concurrency": -1}}')
    code = main(["run", "--data-root", str(tmp_path / "lake"), "--config", str(config), "--run-slot", "2026-11-22T14"])
    assert code == 2
    assert "extract: concurrency must be between 1 and 64" in capsys.readouterr().err
    assert not (tmp_path / "lake").exists()


def test_show_without_any_run_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert main(["show", "--data-root", str(tmp_path)]) == 1
    assert "no published run for any slot" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples/fr24 is not beside the repository")
def test_run_on_a_real_capture_and_show_it(tmp_path: Path) -> None:
    capture = SAMPLES / "flights_20250720_151519.csv"
    cmd = [sys.executable, "-m", "etl", "run", "--snapshot", str(capture), "--data-root", str(tmp_path)]
    args = [*cmd, "--run-slot", "2025-07-20T15", "--show", "--log-format", "console"]  # text, though on a pipe
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "run " in done.stdout and "succeeded: 1500 raw rows" in done.stdout
    assert "Q1 Airline with the most live flights" in done.stdout
    assert "Bonus: airport with the largest outgoing - incoming difference" in done.stdout
