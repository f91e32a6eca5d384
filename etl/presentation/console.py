"""What a person sees: one live line per stage from the job's own log events, Spark kept quiet, then the answers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.text import Text

# log4j2.properties (errors only) and spark-defaults.conf (no progress bars, JVM flags for a short local run).
SPARK_CONF_DIR = Path(__file__).resolve().parents[1] / "core" / "spark_conf"
# What each stage does, as a person would say it; a stage not listed here shows its own name.
STAGE_LABELS = {
    "extract": "extract   world snapshot -> raw",
    "spark_start": "spark     start",
    "clean": "clean     raw -> silver + quarantine",
    "quality": "quality   gate",
    "kpis": "kpis      silver -> gold",
    "publish": "publish   one Iceberg commit a table",
}


@contextmanager
def quiet_spark() -> Iterator[None]:
    """Start Spark inside this block to have its own log at errors only and no console progress bars.

    Spark reads SPARK_CONF_DIR when its JVM starts, so this must enclose the first `getOrCreate`; a directory the
    user set is left alone.
    """
    if os.environ.get("SPARK_CONF_DIR"):
        yield
        return
    os.environ["SPARK_CONF_DIR"] = str(SPARK_CONF_DIR)
    try:
        yield
    finally:
        os.environ.pop("SPARK_CONF_DIR", None)


class _Seconds(ProgressColumn):
    """The stage's time: the job's own measure once it is done, the time so far while it runs."""

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text(task.fields["seconds"])
        return Text(f"{task.elapsed or 0.0:6.1f} s", style="dim")


class StageDisplay(logging.Handler):
    """A log handler that turns stage_started / stage_finished events into one progress line per stage."""

    def __init__(self, console: Console) -> None:
        super().__init__(level=logging.INFO)
        self.console = console
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]done[/]"),
            TextColumn("{task.description}"),
            _Seconds(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.failed: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Follow the run's stages; every other event is for the JSON log, not for the screen."""
        fields: dict[str, Any] = getattr(record, "fields", {})
        event = record.getMessage()
        stage = fields.get("stage")
        if event == "run_started":
            self.progress.start()
        elif event == "stage_started" and stage:
            label = STAGE_LABELS.get(stage, stage)
            self.tasks[stage] = self.progress.add_task(label, total=1, seconds="")
        elif event == "stage_finished" and stage in self.tasks:
            seconds = f"{float(fields.get('seconds', 0.0)):6.1f} s"
            self.progress.update(self.tasks[stage], completed=1, seconds=seconds)
        elif event == "run_failed":
            self.failed = str(fields.get("error", ""))
            self.stop()

    def stop(self) -> None:
        """Leave the stage lines on the screen as they last were."""
        if self.progress.live.is_started:
            self.progress.stop()


class JsonLinesFile(logging.Handler):
    """Keeps a run's JSON log lines and writes them beside its manifest: `<data_root>/logs/<run_id>.jsonl`.

    Not under runs/: the Athena `runs` table reads every object there as a manifest.
    """

    def __init__(self, formatter: logging.Formatter, name: str | None = None) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(formatter)
        self.lines: list[str] = []
        self.run_id: str | None = None
        self.name = name  # the file's name when no run id was bound (a command that failed before its run began)
        self.stage: str | None = None  # the last stage started: the one a failure happened in

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the line, the run id it carries and the stage under way."""
        line = self.format(record)
        self.lines.append(line)
        self.run_id = self.run_id or getattr(record, "run_id", None) or _bound_run_id()
        fields: dict[str, Any] = getattr(record, "fields", {})
        if record.getMessage() == "stage_started" and fields.get("stage"):
            self.stage = str(fields["stage"])

    def write(self, data_root: str) -> str | None:
        """Write the lines through the data root's storage; return the path, or None before any run started.

        When the data root cannot take the file (the disk is full, the folder is read-only), it goes to the
        system's temporary folder instead, so that the trace of the failure is still somewhere to read.
        """
        import tempfile

        from etl.core.layout import join
        from etl.core.storage import storage_for

        name = self.run_id or self.name
        if not name or not self.lines:
            return None
        data = ("\n".join(self.lines) + "\n").encode("utf-8")
        path = join(data_root, "logs", f"{name}.jsonl")
        try:
            storage_for(data_root).write_bytes(path, data)
        except Exception:
            fallback = Path(tempfile.gettempdir()) / "flight-kpis-logs" / f"{name}.jsonl"
            fallback.parent.mkdir(parents=True, exist_ok=True)
            fallback.write_bytes(data)
            return str(fallback)
        return path


def _bound_run_id() -> str | None:
    from etl.core.log import current_run_id

    return current_run_id()


class RunOutput:
    """The `run` command's output: stage lines and answers for a person, or JSON lines only (`json=True`)."""

    def __init__(self, *, json: bool, console: Console | None = None, name: str | None = None) -> None:
        from etl.core.log import JsonLinesFormatter, get_logger, json_stream_handler, use_handlers

        self.previous = list(get_logger().handlers)
        self.json = json
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.file = JsonLinesFile(JsonLinesFormatter(), name)
        self.display: StageDisplay | None = None
        if json:
            use_handlers(json_stream_handler(), self.file)
        else:
            self.display = StageDisplay(self.console)
            use_handlers(self.display, self.file)

    def summary(self, manifest: dict[str, Any], data_root: str) -> None:
        """The run's one-line outcome and where its manifest is (the JSON log already has `run_succeeded`)."""
        self._stop_display()
        if self.json:
            return
        counts = manifest["counts"]
        self.console.print(
            f"run {manifest['run_id']} {manifest['status']}: {counts['raw']} raw rows, {counts['silver']} clean, "
            f"{counts['quarantine']} quarantined, {counts['live_flights']} live flights, "
            f"{manifest['timings_s']['total']:.1f} s",
            markup=False,
        )
        self.console.print(f"manifest: {data_root}/runs/{manifest['run_id']}.json", markup=False)
        if manifest["status"] != "succeeded" and manifest.get("quality"):
            from etl.quality.gate import QualityReport

            failed = ", ".join(manifest["quality"].get("failed", []))
            self.console.print(f"DEGRADED: published although the quality gate failed ({failed})", markup=False)
            self.console.print("\n".join(QualityReport.from_dict(manifest["quality"]).lines()), markup=False)

    def answers(self, render: Callable[[], str], data_root: str, slot: Any) -> None:
        """Each KPI's answer: the text of `etl show`, or an `answers` event holding each table's rank-1 rows."""
        if not self.json:
            self.console.print(render(), markup=False)
            return
        from etl.core.log import log_event
        from etl.presentation.report import read_gold

        gold = read_gold(data_root, slot)
        log_event(
            "answers",
            run_slot=str(slot),
            answers={name: [r for r in rows if r["rank"] == 1] for name, rows in gold.items()},
        )

    def report(self, path: str) -> None:
        """Where the HTML dashboard was written."""
        if self.json:
            from etl.core.log import log_event

            log_event("report_written", path=path)
        else:
            self.console.print(f"dashboard written: {path}", markup=False)

    def failed(self, exc: BaseException, stage: str | None = None) -> str | None:
        """Log the failure with its full trace (the JSON log's `command_failed`); return the stage it happened in."""
        from etl.core.log import get_logger

        self._stop_display()
        stage = stage or self.file.stage
        fields = {"stage": stage, "error": f"{type(exc).__name__}: {exc}"}
        get_logger().error("command_failed", exc_info=exc, extra={"fields": fields})
        return stage

    def close(self, data_root: str, *, quiet: bool = False) -> str | None:
        """Stop the display, write the run's JSON log beside its manifest, give the job's events back; its path.

        `quiet`: the path is not printed (the command's error line names it).
        """
        from etl.core.log import use_handlers

        self._stop_display()
        use_handlers(*self.previous)
        path = self.file.write(data_root)
        if path and not self.json and not quiet:
            self.console.print(f"log: {path}", markup=False)
        return path

    def _stop_display(self) -> None:
        if self.display is not None:
            self.display.stop()
