"""`python -m etl extract|run|backfill|show|report`: the job on a laptop, on the simulated world, the feed or a capture.

`backfill` exits 0 when every slot found in the range was published, 1 when any slot failed (each named on stderr,
the others published) or nothing could be done, 2 on bad arguments.

Every error is one `error:` line on stderr: 2 for bad arguments, a bad config, run slot or data root (nothing
written); 1 for a run that failed (a named job error, a full disk, a Spark failure, anything unforeseen: the line
names the stage and the JSON log that holds the full trace); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from etl.core.config import ConfigError, JobConfig, check_data_root
from etl.core.errors import JobError
from etl.core.layout import RunSlot, RunSlotError
from etl.core.source_registry import REGISTRY, source_names
from etl.quality.gate import QualityReport

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one `error:` line (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _add_job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", required=True, help="local folder or s3:// URI of the data lake")
    parser.add_argument("--run-slot", help="YYYY-MM-DDTHH, UTC (default: the current hour)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_const", dest="source", const="demo", help="simulated world (default)")
    source.add_argument(
        "--live", action="store_const", dest="source", const="flightradarapi", help="= --source flightradarapi"
    )
    source.add_argument("--snapshot", metavar="PATH", help="a recorded capture: CSV, JSON or Parquet")
    source.add_argument(
        "--source",
        dest="source",
        choices=source_names(),
        help="; ".join(
            f"{s.name}: {s.title}" + (f" ({s.token.env_var})" if s.token else "")
            for s in REGISTRY
            if s.remote  # --demo and --snapshot say the others
        ),
    )
    source.add_argument(
        "--sources", metavar="A,B", help="sources to try in order when one is unusable, e.g. flightradarapi,fr24api"
    )
    parser.add_argument("--fr24api-url", metavar="URL", help="base URL of the official API (default: fr24sdk's own)")
    parser.add_argument("--config", metavar="FILE", help="JSON job config; command-line values win")
    parser.add_argument("--demo-flights", type=int, help="flights in the simulated world (default 20000)")
    parser.add_argument("--feed-url", metavar="URL", help="with --live: a feed endpoint speaking FR24's wire format")
    parser.add_argument("--spark-master", default="local[*]", help="Spark master (default local[*])")


def _add_read_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", required=True, help="local folder or s3:// URI of the data lake")
    parser.add_argument("--run-slot", help="YYYY-MM-DDTHH, UTC (default: the slot of the newest published run)")
    parser.add_argument(
        "--as-of", metavar="RUN_ID", help="show an earlier published run (its id, or its end) through time travel"
    )


def _add_backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", required=True, help="local folder or s3:// URI of the data lake")
    parser.add_argument("--from", dest="first", required=True, metavar="SLOT", help="first slot, YYYY-MM-DDTHH (UTC)")
    parser.add_argument("--to", dest="last", required=True, metavar="SLOT", help="last slot (included), YYYY-MM-DDTHH")
    parser.add_argument("--layer", choices=("gold",), default="gold", help="layer recomputed from silver (gold)")
    parser.add_argument(
        "--from-raw", action="store_true", help="re-clean the slots that still have raw: silver, quarantine and gold"
    )
    parser.add_argument("--config", metavar="FILE", help="JSON job config whose `quality` section judges each slot")
    parser.add_argument(
        "--allow-degraded",
        action="store_true",
        default=None,
        help="publish a slot even when its quality gate fails, with status 'degraded'",
    )
    parser.add_argument("--spark-master", default="local[*]", help="Spark master (default local[*])")


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = _Parser(prog="python -m etl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser("extract", help="fetch a world snapshot into raw/ only")
    _add_job_arguments(extract)
    run = commands.add_parser("run", help="extract, clean and compute every KPI for a run slot")
    _add_job_arguments(run)
    run.add_argument("--show", action="store_true", help="print the answers after the run")
    run.add_argument("--report", action="store_true", help="write the HTML dashboard after the run")
    _add_backfill_arguments(commands.add_parser("backfill", help="recompute every slot of a range in one Spark job"))
    run.add_argument(
        "--log-format",
        choices=["auto", "console", "json"],
        default="auto",
        help="console: stage lines and answers for a person; json: JSON lines only on stdout; "
        "auto (default): console on a terminal, json otherwise. The JSON log also goes to <data-root>/logs/",
    )
    run.add_argument(
        "--allow-degraded",
        action="store_true",
        default=None,
        help="publish even when the quality gate fails, with status 'degraded' (replaying partial captures)",
    )
    _add_read_arguments(commands.add_parser("show", help="print each KPI's answer and top 5"))
    maintain = commands.add_parser(
        "maintain", help="expire old snapshots, delete orphan files, compact: what Glue's optimizers do on AWS"
    )
    maintain.add_argument("--data-root", required=True, help="local folder or s3:// URI of the data lake")
    maintain.add_argument("--config", metavar="FILE", help="JSON job config whose `lake` section names the catalog")
    maintain.add_argument("--spark-master", default="local[*]", help="Spark master (default local[*])")
    report = commands.add_parser("report", help="write a self-contained HTML dashboard")
    _add_read_arguments(report)
    report.add_argument("--out", help="output file (default: under <data-root>/reports/)")
    return parser


def _read_config_file(path: str) -> dict[str, Any]:
    """A JSON job config file as a dict; ConfigError when it cannot be read or is not an object."""
    try:
        values = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read job config {path}: {exc}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"job config {path} must be a JSON object")
    return values


def job_config(args: argparse.Namespace) -> JobConfig:
    """The job config from an optional JSON file and the command line."""
    values = _read_config_file(args.config) if args.config else {}
    source = "snapshot" if args.snapshot else args.source
    sources = [s.strip() for s in args.sources.split(",") if s.strip()] if args.sources else None
    if source or sources:  # a source given here replaces the file's source and sources, not only one of them
        values.pop("sources", None)
        values.pop("source", None)
    if sources:
        source = sources[0]
    # An empty --run-slot is a mistake to refuse, not "the current hour".
    slot = args.run_slot if args.run_slot is not None else values.get("run_slot", str(RunSlot.now()))
    overrides = {
        "data_root": args.data_root,
        "run_slot": slot,
        "source": source or values.get("source") or (None if values.get("sources") else "demo"),
        "sources": sources,
        "fr24api_url": args.fr24api_url,
        "snapshot_path": args.snapshot,
        "demo_flights": args.demo_flights,
        "feed_url": args.feed_url,
        "spark_master": args.spark_master,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    if getattr(args, "allow_degraded", None):
        quality = values.get("quality", {})
        values["quality"] = {**quality, "allow_degraded": True} if isinstance(quality, dict) else quality
    config = JobConfig.from_dict(values)
    check_data_root(config.data_root)
    return config


def _write_report(data_root: str, slot: RunSlot | None, out: str | None = None, as_of: str | None = None) -> str:
    from etl.presentation.report import write_report

    return write_report(data_root, slot, out, as_of)


def _json_output(args: argparse.Namespace) -> bool:
    return args.log_format == "json" or (args.log_format == "auto" and not sys.stdout.isatty())


_PROGRESS_LABELS = {"clean": "re-cleaned {done}/{total} slots", "kpis": "KPIs {done}/{total} tables"}


class _TerminalProgress:
    """One self-rewriting status line on a terminal: the stage and how far it is."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        text = _PROGRESS_LABELS.get(stage, "published {done}/{total} slots").format(done=done, total=total)
        end = "\n" if stage == "publish" and done == total else ""
        print(f"\r\x1b[Kbackfill: {text}", end=end, flush=True)


def _backfill_settings(args: argparse.Namespace) -> JobConfig:
    """The backfill's gate and lake: the `quality` and `lake` sections of --config (defaults without one),
    --allow-degraded over the gate."""
    values: dict[str, Any] = {"data_root": args.data_root, "run_slot": args.first}
    if args.config:
        values = {**_read_config_file(args.config), **values}
    if args.allow_degraded:
        quality = values.get("quality", {})
        values["quality"] = {**quality, "allow_degraded": True} if isinstance(quality, dict) else quality
    return JobConfig.from_dict(values)


def _maintain(args: argparse.Namespace) -> None:
    """`etl maintain`: the lake's table maintenance, with the settings of Glue's optimizers
    (etl/publication/lake.py)."""
    from etl.orchestration.pipeline import build_spark, open_lake
    from etl.presentation.console import quiet_spark
    from etl.publication.maintenance import maintain

    check_data_root(args.data_root)
    values: dict[str, Any] = _read_config_file(args.config) if args.config else {}
    values.update(data_root=args.data_root, run_slot=str(RunSlot.now()), spark_master=args.spark_master)
    config = JobConfig.from_dict(values)
    with quiet_spark():
        spark = build_spark(config)
    done = maintain(open_lake(spark, config))
    for action, tables in done.items():
        print(f"{action}: {sum(tables.values())} ({', '.join(f'{t} {n}' for t, n in tables.items() if n) or 'none'})")


def _backfill(args: argparse.Namespace) -> int:
    from etl.orchestration.backfill import BackfillConfig, backfill
    from etl.presentation.console import quiet_spark

    check_data_root(args.data_root)
    settings = _backfill_settings(args)
    config = BackfillConfig.parse(
        args.data_root,
        args.first,
        args.last,
        from_raw=args.from_raw,
        layer=args.layer,
        spark_master=args.spark_master,
        quality=settings.quality,
        lake=settings.lake,
    )
    with quiet_spark():  # the backfill starts Spark: its own log at errors, no bars across the progress line
        report = backfill(config, progress=_TerminalProgress() if sys.stdout.isatty() else None)
    degraded = f" ({len(report.degraded)} degraded)" if report.degraded else ""
    print(
        f"backfill {report.backfill_id}: {len(report.published)} of {len(report.slots)} slots published{degraded}, "
        f"{len(report.failed)} failed, {report.timings_s['total']:.1f} s"
    )
    for slot, reason in report.degraded.items():
        print(f"degraded: {slot}: {reason}", file=sys.stderr)
    for slot, reason in report.failed.items():
        print(f"failed: {slot}: {reason}", file=sys.stderr)
    return EXIT_FAILED if report.failed else 0


def summarize(exc: BaseException) -> str:
    """One line for an unforeseen failure: a full disk said as such, a Spark (Java) error by its own first line."""
    text = str(exc)
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in text:
        where = f" writing {exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        return f"disk full (No space left on device){where}"
    lines = [line.strip().removeprefix(": ").strip() for line in text.splitlines() if line.strip()]
    # Py4JJavaError: "An error occurred while calling o123.save.", then ": org.apache...Exception: <message>".
    lines = [line for line in lines if not line.startswith("An error occurred while calling")] or [""]
    first = " ".join(lines[0].split())
    if len(first) > 300:
        first = first[:297] + "..."
    if type(exc).__name__ == "Py4JJavaError" or first.startswith(("org.apache.", "java.")):
        return f"Spark failed: {first}"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _failure_line(exc: BaseException, stage: str | None, log_path: str | None) -> str:
    where = f"the {stage} stage failed" if stage else "the command failed"
    trace = f"; full trace in {log_path}" if log_path else ""
    return f"error: {where}: {summarize(exc)}{trace}"


def _trace_file(data_root: str, command: str, exc: BaseException) -> str | None:
    """The full trace of a command without a run log (extract, backfill, show, report), as one JSON log line."""
    from etl.core.log import JsonLinesFormatter, get_logger, use_handlers
    from etl.presentation.console import JsonLinesFile

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    file = JsonLinesFile(JsonLinesFormatter(), f"{command}-{stamp}")
    previous = list(get_logger().handlers)
    use_handlers(file)
    try:
        get_logger().error("command_failed", exc_info=exc, extra={"fields": {"command": command}})
    finally:
        use_handlers(*previous)
    try:
        return file.write(data_root)
    except Exception:  # nowhere left to write: the error line is all there is
        return None


def _run(args: argparse.Namespace, failure: dict[str, Any]) -> None:
    """`etl run`: the stage lines or JSON log, the slot's run, its answers and report; `failure` says where it broke."""
    from etl.core.log import bind_run_id
    from etl.orchestration.pipeline import run
    from etl.presentation.console import RunOutput, quiet_spark
    from etl.presentation.show import render_slot

    config = job_config(args)
    out = RunOutput(json=_json_output(args), name=f"run-{config.run_slot}")
    try:
        with quiet_spark():  # the run starts Spark's JVM (while it extracts): Spark's own log and bars are muted
            manifest = run(config)
        out.summary(manifest, config.data_root)
        if args.show:
            text = partial(render_slot, config.data_root, config.run_slot)  # read only for the screen
            out.answers(text, config.data_root, config.run_slot)
        if args.report:
            out.report(_write_report(config.data_root, config.run_slot))
    except Exception as exc:
        if "stage" not in failure:
            failure["stage"] = out.failed(exc)
        failure["unforeseen"] = not isinstance(exc, JobError)
        raise
    finally:
        # After an unforeseen failure the error line names the log; a named job error leaves it printed as usual.
        failure["log"] = out.close(config.data_root, quiet=failure.get("unforeseen", False))
        bind_run_id(None)  # the run's events are over: what this process logs next is not the run's


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    # Py4J logs a cut connection (an interrupt during a Spark call) with `logging.exception` on the root logger,
    # which, left without a handler, prints the traceback on stderr: the command's own error line and its log file
    # say what happened.
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    failure: dict[str, Any] = {}  # where a run broke: {stage, log}
    try:
        if args.command == "extract":
            from etl.core.log import get_logger, json_stream_handler, use_handlers
            from etl.core.storage import storage_for
            from etl.extract import extract_to_raw

            config = job_config(args)
            previous = list(get_logger().handlers)
            use_handlers(json_stream_handler(sys.stderr))  # stdout is for the summary below
            try:
                landing = extract_to_raw(config, storage_for(config.data_root))
            finally:
                use_handlers(*previous)
            print(f"raw flights written: {landing.raw_flights_path} ({landing.rows} flights)")
            print(f"reference data: {landing.airports_path}, {landing.airlines_path}")
            print(json.dumps(landing.stats.to_dict(), indent=2, default=str))
        elif args.command == "run":
            _run(args, failure)
        elif args.command == "backfill":
            return _backfill(args)
        elif args.command == "show":
            from etl.presentation.show import render_slot

            check_data_root(args.data_root, write=False)
            slot = RunSlot.parse(args.run_slot) if args.run_slot is not None else None
            print(render_slot(args.data_root, slot, args.as_of))
        elif args.command == "maintain":
            _maintain(args)
        elif args.command == "report":
            check_data_root(args.data_root, write=False)
            slot = RunSlot.parse(args.run_slot) if args.run_slot is not None else None
            path = _write_report(args.data_root, slot, args.out, args.as_of)
            print(f"dashboard written: {path}")
    except (ConfigError, RunSlotError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JobError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        report = getattr(exc, "report", None)
        if isinstance(report, QualityReport):
            print("quality checks (value vs threshold); nothing was published:", file=sys.stderr)
            print("\n".join(report.lines()), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a full disk, a Spark failure, a damaged table: one line, the trace in a log file
        log = failure["log"] if "log" in failure else _trace_file(args.data_root, args.command, exc)
        print(_failure_line(exc, failure.get("stage"), log), file=sys.stderr)
        return EXIT_FAILED
    return 0
