"""EMR step entry point: `spark-submit main.py --code etl.zip --config job_config.json --run-slot 2026-11-22T14`.

Uploaded on its own beside the zipped `etl` package, so it imports nothing of the project until the zip
is on the path: it starts Spark, adds the zip with `SparkContext.addPyFile` (the driver and every executor
then import `etl` from it), reads the job config and runs `etl.pipeline.run` for the given run slot.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_JOB_FAILED = 1
EXIT_BAD_CONFIG = 2


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The step's arguments; local paths work as well as s3:// URIs."""
    parser = argparse.ArgumentParser(prog="main.py", description="Run one flight-kpis slot on Spark.")
    parser.add_argument("--code", required=True, help="the etl package as a zip (s3:// URI or local path)")
    parser.add_argument("--config", required=True, help="the job config JSON (s3:// URI or local path)")
    parser.add_argument("--run-slot", required=True, help="UTC hour the results belong to, e.g. 2026-11-22T14")
    parser.add_argument("--data-root", default=None, help="overrides the config's data_root (e.g. s3://bucket)")
    return parser.parse_args(argv)


def _error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the slot; return 0 on success, 1 when the job fails, 2 when the config is unusable."""
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.appName(f"flight-kpis-{args.run_slot}")
        # Hadoop settings are fixed when the context starts, so this one is set here rather than by the job.
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        # On EMR an s3:// URI is passed as is: Spark fetches it through EMRFS to the driver and each executor,
        # so no download code (and no credentials handling) is needed here.
        spark.sparkContext.addPyFile(args.code)
        from etl.config import ConfigError, JobConfig
        from etl.errors import JobError
        from etl.layout import RunSlotError
        from etl.pipeline import run
        from etl.storage import storage_for

        try:
            text = storage_for(args.config).read_bytes(args.config).decode("utf-8")
            config = JobConfig.from_json(text, run_slot=args.run_slot, data_root=args.data_root)
        except (ConfigError, RunSlotError, OSError, UnicodeDecodeError) as exc:
            _error(f"job config {args.config}: {exc}")
            return EXIT_BAD_CONFIG
        try:
            manifest = run(config)  # the job applies its own session settings to the session started here
        except JobError as exc:
            _error(f"{type(exc).__name__}: {exc}")
            return EXIT_JOB_FAILED
        print(f"run {manifest.get('run_id')} of slot {config.run_slot}: {manifest.get('status')}")
        return 0
    except Exception as exc:  # anything unforeseen still ends in one readable line and a failed step
        _error(f"unexpected {type(exc).__name__}: {exc}")
        return EXIT_JOB_FAILED
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
