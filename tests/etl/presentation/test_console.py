"""The console: stage lines and answers for a person, JSON lines only for machines, the JSON log beside the manifest."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from etl.cli import main
from etl.core.log import JsonLinesFormatter, bind_run_id, get_logger, log_event
from etl.presentation.console import JsonLinesFile, RunOutput, StageDisplay
from tests.paths import REPO

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STAGES = ("extract", "clean", "kpis", "publish")


def _event(handler: logging.Handler, event: str, **fields: Any) -> None:
    record = logging.LogRecord("etl", logging.INFO, __file__, 0, event, None, None)
    record.fields = fields
    handler.handle(record)


def test_stage_events_become_one_line_per_stage_with_its_time() -> None:
    screen = io.StringIO()
    display = StageDisplay(Console(file=screen, force_terminal=True, width=100))

    _event(display, "run_started", run_slot="2026-11-22T14")
    _event(display, "stage_started", stage="extract")
    _event(display, "extracted 20000 flights")  # an event for the JSON log only
    _event(display, "stage_finished", stage="extract", seconds=1.482)
    _event(display, "stage_started", stage="clean")
    _event(display, "stage_finished", stage="clean", seconds=12.04)
    display.stop()

    # The last frame of the live display, as a terminal shows it once the escapes are applied.
    final = ANSI.sub("", screen.getvalue()).split("\r")[-1].strip().splitlines()
    assert [" ".join(line.split()) for line in final[-2:]] == [
        "done extract world snapshot -> raw 1.5 s",
        "done clean raw -> silver + quarantine 12.0 s",
    ]
    assert "extracted 20000 flights" not in screen.getvalue()


def test_json_log_lands_beside_the_manifest_under_logs(tmp_path: Path) -> None:
    handler = JsonLinesFile(JsonLinesFormatter())
    bind_run_id("20261122T14-20261129T101500Z-abc123")
    try:
        _event(handler, "run_started", run_slot="2026-11-22T14")
        _event(handler, "stage_finished", stage="extract", seconds=1.5)
    finally:
        bind_run_id(None)

    path = handler.write(str(tmp_path))

    assert path == str(tmp_path / "logs" / "20261122T14-20261129T101500Z-abc123.jsonl")
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert [(d["event"], d["run_id"]) for d in lines] == [
        ("run_started", "20261122T14-20261129T101500Z-abc123"),
        ("stage_finished", "20261122T14-20261129T101500Z-abc123"),
    ]
    assert lines[1]["stage"] == "extract" and lines[1]["seconds"] == 1.5


def test_json_output_prints_json_lines_only_and_gives_the_events_back(tmp_path: Path, capsys) -> None:
    before = list(get_logger().handlers)
    out = RunOutput(json=True)
    bind_run_id("20261122T14-20261129T101500Z-abc123")
    try:
        log_event("run_started", run_slot="2026-11-22T14")
        out.summary({"run_id": "x", "status": "succeeded"}, str(tmp_path))  # already in the JSON log: no text
        out.report(str(tmp_path / "reports" / "2026-11-22_14.html"))
    finally:
        out.close(str(tmp_path))
        bind_run_id(None)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["event"] for d in lines] == ["run_started", "report_written"]
    assert lines[1]["path"] == str(tmp_path / "reports" / "2026-11-22_14.html")
    assert (tmp_path / "logs" / "20261122T14-20261129T101500Z-abc123.jsonl").read_text().count("\n") == 2
    assert get_logger().handlers == before


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SPARK_CONF_DIR"}
    return {**env, "PYTHONPATH": str(REPO), "TERM": "xterm-256color", "COLUMNS": "120"}


def _run_in_terminal(args: list[str], timeout: float = 900) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdout and stderr, as a person's shell would; return its screen."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=_env(), cwd=REPO)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the command closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


DEMO = ["-m", "etl", "run", "--demo", "--demo-flights", "2000", "--run-slot", "2026-11-22T14", "--show"]


@pytest.mark.slow
def test_demo_on_a_terminal_shows_stage_lines_and_answers_and_no_spark_noise(tmp_path: Path) -> None:
    code, screen = _run_in_terminal([sys.executable, *DEMO, "--data-root", str(tmp_path)])

    text = ANSI.sub("", screen).replace("\r", "\n")
    assert code == 0, text[-3000:]
    for stage in STAGES:
        assert re.search(rf"done {stage} .*\d+\.\d s", text), f"no finished line for {stage}"
    assert "Q1 Airline with the most live flights" in text and "answer:" in text
    assert "WARN" not in text and "Setting default log level" not in text  # Spark's own log stays quiet
    assert "[Stage " not in text  # no Spark progress bars
    assert '{"time"' not in text  # no JSON on the screen
    (log,) = (tmp_path / "logs").glob("*.jsonl")  # ... it went to the file beside the manifest
    assert {json.loads(line)["event"] for line in log.read_text().splitlines()} >= {"run_started", "run_succeeded"}


@pytest.mark.slow
def test_json_log_format_prints_json_lines_only(spark, tmp_path: Path, capfd) -> None:
    # In this process, on the tests' Spark: what a new process adds (Spark's own start-up output) the terminal test
    # above checks. capfd takes the file descriptors, so whatever the JVM wrote during the run is read too.
    code = main([*DEMO[2:], "--data-root", str(tmp_path), "--log-format", "json", "--spark-master", "local[2]"])
    out = capfd.readouterr().out

    assert code == 0, out[-3000:]
    events = [json.loads(line) for line in out.splitlines()]  # every line parses
    finished = [e["stage"] for e in events if e["event"] == "stage_finished"]
    assert [s for s in finished if s in STAGES] == list(STAGES)
    (answers,) = [e for e in events if e["event"] == "answers"]
    (q1,) = answers["answers"]["airline_most_live_flights"]
    assert q1["rank"] == 1 and q1["live_flights"] > 0
    assert len({e["run_id"] for e in events}) == 1
