"""The command line: clear one-line errors before anything is written, and the snapshot path on real captures."""

from __future__ import annotations

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
def test_run_on_a_real_capture_and_show_it(spark, tmp_path: Path, capsys) -> None:
    # In this process, on the tests' Spark (a new process's own output is tests/etl/presentation/test_console.py's).
    capture = SAMPLES / "flights_20250720_151519.csv"
    args = ["run", "--snapshot", str(capture), "--data-root", str(tmp_path), "--spark-master", "local[2]"]
    code = main([*args, "--run-slot", "2025-07-20T15", "--show", "--log-format", "console"])  # text, on a pipe
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert "run " in out.out and "succeeded: 1500 raw rows" in out.out
    assert "Q1 Airline with the most live flights" in out.out
    assert "Bonus: airport with the largest outgoing - incoming difference" in out.out
