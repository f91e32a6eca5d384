"""EMR step entry point: `spark-submit main.py --code etl.zip --config job_config.json --run-slot 2026-11-22T14`.

A backfill step gives `--backfill-from 2026-11-01T00 --backfill-to 2026-11-30T22 [--from-raw]` instead of
`--run-slot`: every slot of the range is recomputed in this one step (`etl.orchestration.backfill`); the step fails
(exit 1) when any slot failed, after publishing the others.

Uploaded on its own beside the zipped `etl` package, so it imports nothing of the project until the zip
is on the path: it starts Spark, adds the zip with `SparkContext.addPyFile` (the driver and every executor
then import `etl` from it), reads the job config and runs `etl.orchestration.pipeline.run` for the given run slot.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the project is importable only once the zip is on the path
    from pyspark.sql import SparkSession

    from etl.core.config import JobConfig

EXIT_JOB_FAILED = 1
EXIT_BAD_CONFIG = 2


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The step's arguments; local paths work as well as s3:// URIs."""
    parser = argparse.ArgumentParser(prog="main.py", description="Run one flight-kpis slot on Spark.")
    parser.add_argument("--code", required=True, help="the etl package as a zip (s3:// URI or local path)")
    parser.add_argument("--config", required=True, help="the job config JSON (s3:// URI or local path)")
    parser.add_argument("--run-slot", help="UTC hour the results belong to, e.g. 2026-11-22T14")
    parser.add_argument("--data-root", default=None, help="overrides the config's data_root (e.g. s3://bucket)")
    parser.add_argument("--backfill-from", help="instead of --run-slot: the first slot of a backfill")
    parser.add_argument("--backfill-to", help="with --backfill-from: the last slot of the backfill (included)")
    parser.add_argument("--from-raw", action="store_true", help="backfill: re-clean the slots that still have raw")
    args = parser.parse_args(argv)
    backfill = args.backfill_from is not None or args.backfill_to is not None
    if backfill and (args.run_slot or not (args.backfill_from and args.backfill_to)):
        parser.error("a backfill needs --backfill-from and --backfill-to, and no --run-slot")
    if not backfill and (not args.run_slot or args.from_raw):
        parser.error("give --run-slot, or --backfill-from and --backfill-to (--from-raw is for a backfill)")
    return args


def _error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the slot; return 0 on success, 1 when the job fails, 2 when the config is unusable."""
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    # The cluster's own settings (master, memory, executors) are EMR's; the job's are applied once `etl` is on the
    # path, before any Spark work.
    spark = SparkSession.builder.appName(f"flight-kpis-{args.run_slot or 'backfill'}").getOrCreate()
    try:
        # On EMR an s3:// URI is passed as is: Spark fetches it through EMRFS to the driver and each executor,
        # so no download code (and no credentials handling) is needed here.
        spark.sparkContext.addPyFile(args.code)
        return step(spark, args)
    except Exception as exc:  # anything unforeseen still ends in one readable line and a failed step
        _error(f"unexpected {type(exc).__name__}: {exc}")
        return EXIT_JOB_FAILED
    finally:
        spark.stop()


def step(spark: SparkSession, args: argparse.Namespace) -> int:
    """The step's work on a running session from which `etl` imports: read the job config, run the slot (or the
    backfill) on `spark`, print one line; the exit code of `main`."""
    from etl.core.config import ConfigError, JobConfig
    from etl.core.errors import JobError
    from etl.core.layout import RunSlotError
    from etl.core.spark_session import apply_settings
    from etl.core.storage import storage_for
    from etl.orchestration.pipeline import run

    # The job's settings (etl/core/spark_session.py), the session's time zone and the Hadoop setting that keeps
    # _SUCCESS markers out of the tables included: set on the context here, as they could not be at its start.
    apply_settings(spark)
    try:
        text = storage_for(args.config).read_bytes(args.config).decode("utf-8")
        config = JobConfig.from_json(text, run_slot=args.run_slot or args.backfill_from, data_root=args.data_root)
    except (ConfigError, RunSlotError, OSError, UnicodeDecodeError) as exc:
        _error(f"job config {args.config}: {exc}")
        return EXIT_BAD_CONFIG
    if args.backfill_from:
        return _backfill(spark, config, args)
    try:
        manifest = run(config, spark=spark)
    except JobError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_JOB_FAILED
    print(f"run {manifest.get('run_id')} of slot {config.run_slot}: {manifest.get('status')}")
    return 0


def _backfill(spark: SparkSession, job: JobConfig, args: argparse.Namespace) -> int:
    """Run a backfill step; 0 when every slot found was published, 1 when any failed, 2 on a bad range.

    Each slot is judged by the job config's `quality` section, as the scheduled runs are.
    """
    from etl.core.config import ConfigError
    from etl.core.errors import JobError
    from etl.core.layout import RunSlotError
    from etl.orchestration.backfill import BackfillConfig, backfill

    try:
        config = BackfillConfig.parse(
            job.data_root,
            args.backfill_from,
            args.backfill_to,
            from_raw=args.from_raw,
            quality=job.quality,
            lake=job.lake,
        )
    except (ConfigError, RunSlotError) as exc:
        _error(f"backfill: {exc}")
        return EXIT_BAD_CONFIG
    try:
        report = backfill(config, spark=spark)
    except JobError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_JOB_FAILED
    degraded = f" ({len(report.degraded)} degraded)" if report.degraded else ""
    print(f"backfill {report.backfill_id}: {len(report.published)} of {len(report.slots)} slots published{degraded}")
    for slot, reason in report.degraded.items():
        _error(f"slot {slot} published as degraded: {reason}")
    for slot, reason in report.failed.items():
        _error(f"slot {slot} failed: {reason}")
    return EXIT_JOB_FAILED if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
