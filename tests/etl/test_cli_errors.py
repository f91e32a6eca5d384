"""Every error a user can cause is one `error:` line on stderr, with the exit code the README gives."""

from __future__ import annotations

import errno
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from etl import cli
from etl.core.log import log_event

SLOT = "2026-11-22T14"


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line, asserted to be alone and to start with `error: `."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_an_empty_run_slot_is_refused_not_taken_as_the_current_hour(tmp_path: Path, capsys) -> None:
    assert cli.main(["run", "--data-root", str(tmp_path / "lake"), "--run-slot", ""]) == 2
    assert error_line(capsys) == "error: run slot '' is not of the form YYYY-MM-DDTHH (UTC), e.g. 2026-11-22T14"
    assert not (tmp_path / "lake").exists()


def test_an_empty_run_slot_is_refused_by_show(tmp_path: Path, capsys) -> None:
    assert cli.main(["show", "--data-root", str(tmp_path), "--run-slot", ""]) == 2
    assert error_line(capsys).startswith("error: run slot '' is not of the form")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"extract": {"tile_cap": "abc"}}, 'error: extract.tile_cap must be an integer, not "abc"'),
        ({"extract": {"timeout_s": None}}, "error: extract.timeout_s must be a number, not null"),
        ({"demo_flights": "many"}, 'error: demo_flights must be an integer, not "many"'),
        ({"quality": "strict"}, 'error: quality must be an object of settings, not "strict"'),
        ({"alerts_topic": 12}, "error: alerts_topic must be a string or null, not 12"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_one_line(tmp_path: Path, capsys, config: dict, message: str) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(config))
    code = cli.main(["run", "--data-root", str(tmp_path / "lake"), "--run-slot", SLOT, "--config", str(path)])
    assert code == 2
    assert error_line(capsys) == message
    assert not (tmp_path / "lake").exists()


def test_a_data_root_that_is_a_file_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    file = tmp_path / "lake"
    file.write_text("a file")
    assert cli.main(["run", "--data-root", str(file), "--run-slot", SLOT]) == 2
    assert error_line(capsys) == f"error: data root {file} is a file, not a folder"
    assert cli.main(["backfill", "--data-root", str(file), "--from", SLOT, "--to", SLOT]) == 2
    assert error_line(capsys) == f"error: data root {file} is a file, not a folder"
    assert cli.main(["show", "--data-root", str(file)]) == 2
    assert error_line(capsys) == f"error: data root {file} is a file, not a folder"


def test_an_unwritable_data_root_is_refused_before_any_work(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("etl.core.config._can_create_in", lambda folder: False)  # root writes anywhere: simulated
    assert cli.main(["run", "--data-root", str(tmp_path), "--run-slot", SLOT]) == 2
    assert error_line(capsys) == f"error: data root {tmp_path} is not writable by this user"


def test_bad_arguments_are_one_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--run-slot", SLOT])
    assert exited.value.code == 2
    assert error_line(capsys) == (
        "error: python -m etl run: the following arguments are required: --data-root (see python -m etl run --help)"
    )


def _failing_run(exc: BaseException, stage: str | None) -> Any:
    def run(config: Any, **_: Any) -> dict[str, Any]:
        from etl.core.log import bind_run_id

        bind_run_id("20261122T14-20261122T140000Z-abc123")
        log_event("run_started", run_slot=str(config.run_slot))
        if stage:
            log_event("stage_started", stage=stage)
            log_event("stage_finished", stage=stage, seconds=0.1)  # logged even when the stage raises
        log_event("run_failed", logging.ERROR, error=str(exc))
        raise exc

    return run


@pytest.fixture
def no_spark(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's Spark session replaced: these tests are about what the command prints, not about Spark."""
    monkeypatch.setattr("etl.orchestration.pipeline.build_spark", lambda config: SimpleNamespace())
    yield
    from etl.core.log import bind_run_id

    bind_run_id(None)


@pytest.mark.parametrize(
    ("exc", "stage", "summary"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/lake/raw/flights/x.csv"),
            "extract",
            "the extract stage failed: disk full (No space left on device) writing /lake/raw/flights/x.csv",
        ),
        (
            RuntimeError(
                "An error occurred while calling o311.parquet.\n: org.apache.spark.SparkException: Job aborted "
                "due to stage failure: java.io.IOException: No space left on device\n\tat org.apache.spark..."
            ),
            "kpis",
            "the kpis stage failed: disk full (No space left on device)",
        ),
        (
            RuntimeError("An error occurred while calling o42.count.\n: org.apache.spark.SparkException: Job 3 lost"),
            "clean",
            "the clean stage failed: Spark failed: org.apache.spark.SparkException: Job 3 lost",
        ),
        (KeyError("tile"), None, "the command failed: KeyError: 'tile'"),
    ],
)
def test_a_failure_is_one_line_naming_the_stage_and_the_log_with_the_trace(
    tmp_path: Path, capsys, monkeypatch, no_spark, exc: BaseException, stage: str | None, summary: str
) -> None:
    monkeypatch.setattr("etl.orchestration.pipeline.run", _failing_run(exc, stage))
    root = tmp_path / "lake"
    code = cli.main(["run", "--data-root", str(root), "--run-slot", SLOT, "--log-format", "console"])

    assert code == 1
    log = root / "logs" / "20261122T14-20261122T140000Z-abc123.jsonl"
    assert error_line(capsys) == f"error: {summary}; full trace in {log}"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    (failed,) = [e for e in events if e["event"] == "command_failed"]
    assert failed["stage"] == stage
    assert failed["exception"].startswith("Traceback (most recent call last):")
    assert any(line.startswith(f"{type(exc).__name__}: ") for line in failed["exception"].splitlines())


def test_a_log_the_full_disk_cannot_take_goes_to_the_temporary_folder(
    tmp_path: Path, capsys, monkeypatch, no_spark
) -> None:
    def full(self: Any, path: str, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    exc = OSError(errno.ENOSPC, "No space left on device", "/lake/gold/x.parquet")
    monkeypatch.setattr("etl.orchestration.pipeline.run", _failing_run(exc, "kpis"))
    monkeypatch.setattr("etl.core.storage.LocalStorage.write_bytes", full)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    code = cli.main(["run", "--data-root", str(tmp_path / "lake"), "--run-slot", SLOT, "--log-format", "json"])

    assert code == 1
    log = tmp_path / "tmp" / "flight-kpis-logs" / "20261122T14-20261122T140000Z-abc123.jsonl"
    assert error_line(capsys) == (
        f"error: the kpis stage failed: disk full (No space left on device) writing /lake/gold/x.parquet; "
        f"full trace in {log}"
    )
    assert "command_failed" in log.read_text()


def test_spark_that_cannot_start_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    def no_java(config: Any) -> Any:
        raise RuntimeError("Java gateway process exited before sending its port number")

    monkeypatch.setattr("etl.orchestration.pipeline.build_spark", no_java)
    lake = tmp_path / "lake"
    argv = [
        "run",
        "--demo",
        "--demo-flights",
        "300",
        "--data-root",
        str(lake),
        "--run-slot",
        SLOT,
        "--log-format",
        "json",
    ]
    code = cli.main(argv)

    assert code == 1
    line = error_line(capsys)
    # Spark starts while the capture is extracted: the capture is landed, the run recorded as failed at spark_start.
    (manifest_path,) = (lake / "runs").glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    log = lake / "logs" / f"{manifest['run_id']}.jsonl"
    assert line == (
        "error: the spark_start stage failed: RuntimeError: Java gateway process exited before sending its port "
        f"number; full trace in {log}"
    )
    assert "Traceback" in log.read_text()
    assert manifest["status"] == "failed" and manifest["extraction"]["rows"] == 300


def test_a_damaged_table_read_by_show_is_one_line_with_the_trace_in_a_log(tmp_path: Path, capsys, monkeypatch) -> None:
    def damaged(*args: Any) -> str:
        raise ValueError("Parquet magic bytes not found in footer")

    monkeypatch.setattr("etl.presentation.show.render_slot", damaged)
    assert cli.main(["show", "--data-root", str(tmp_path), "--run-slot", SLOT]) == 1
    line = error_line(capsys)
    (log,) = (tmp_path / "logs").glob("show-*.jsonl")
    summary = "ValueError: Parquet magic bytes not found in footer"
    assert line == f"error: the command failed: {summary}; full trace in {log}"
    assert "Parquet magic bytes" in json.loads(log.read_text())["exception"]


def test_the_real_process_prints_one_line_and_exits_2_for_a_file_as_data_root(tmp_path: Path) -> None:
    file = tmp_path / "lake"
    file.write_text("a file")
    cmd = [sys.executable, "-m", "etl", "run", "--data-root", str(file), "--run-slot", SLOT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"error: data root {file} is a file, not a folder\n"
    assert done.stdout == ""


def test_a_run_without_java_says_so_before_extracting(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    lake = tmp_path / "lake"
    code = cli.main(["run", "--demo", "--data-root", str(lake), "--run-slot", SLOT, "--log-format", "json"])

    assert code == 1
    assert error_line(capsys) == (
        f"error: JavaMissingError: JAVA_HOME is {tmp_path / 'no-jdk'}, which has no bin/java: "
        "point it at a Java 17 or later"
    )
    assert not (lake / "raw").exists()  # nothing was extracted
    (manifest_path,) = (lake / "runs").glob("*.json")
    assert json.loads(manifest_path.read_text())["status"] == "failed"
