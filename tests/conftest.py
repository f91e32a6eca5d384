"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pyspark.sql import SparkSession

from etl.core.config import JobConfig
from etl.core.layout import RunSlot
from etl.core.spark_session import BASE_SETTINGS, import_short_names, session_builder
from etl.publication.lake import runtime_jar

# pyspark.testing imports pandas-on-Spark, which asks for this before any Spark context exists.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
# The JVM's own settings, for whichever test starts it (the `spark` fixture, or a run that builds its session): one
# JVM serves the whole run, hundreds of Iceberg commits and backfills of every real capture included, so a 3 GB
# heap rather than local mode's 1 GB; and Spark's status store, which keeps the last 1,000 jobs, stages and SQL
# queries with their plans and metrics (web UI or not), keeps a few: over the suite's thousands of queries it filled
# the heap, and the garbage collector took most of the run. The tests read no status. (The classes Spark generates
# are kept across the runs by every session's START_SETTINGS, etl/core/spark_session.py.)
os.environ.setdefault(
    "PYSPARK_SUBMIT_ARGS",
    "--driver-memory 3g --conf spark.ui.retainedJobs=20 --conf spark.ui.retainedStages=20 "
    "--conf spark.ui.retainedTasks=200 --conf spark.sql.ui.retainedExecutions=5 pyspark-shell",
)


# The test session's JVM flags (how fast, not what). Spark makes new classes for each query, and the JVM's optimising
# compiler kept compiling them: in 12 runs of 800 flights in one JVM it took 86 s of the JVM's 195 s of CPU. Asking
# four times the default calls and loop turns of a method before optimising it (the compile threshold 40,000 for
# 15,000), and the serial collector (the tests' heap is small and the cores few), the same 12 runs took 166 s of
# CPU, at the same speed (9-10 s a warm run). The suite is bound by CPU on 2 cores. Runs in a process of their own
# keep the command line's flags (C1 only, etl/core/spark_conf/).
TEST_JVM_OPTIONS = (
    "-XX:+UseSerialGC -XX:Tier4InvocationThreshold=20000 -XX:Tier4CompileThreshold=40000 "
    "-XX:Tier4BackEdgeThreshold=160000"
)


@pytest.fixture
def s3() -> Iterator[Any]:
    """An S3 client on moto's in-memory AWS, with an empty bucket `lake`."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield client


@pytest.fixture
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep any proxy from the environment away from 127.0.0.1, where the tests' servers listen."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One small local Spark session for the whole test run."""
    # The project's base settings (etl/core/spark_session.py); test frames are tiny: 4 shuffle partitions.
    settings = {**BASE_SETTINGS, "spark.sql.shuffle.partitions": "4", "spark.driver.extraJavaOptions": TEST_JVM_OPTIONS}
    builder = session_builder("flight-kpis-tests", "local[2]", settings).config("spark.jars", runtime_jar())
    session = builder.getOrCreate()
    import_short_names(session)  # as every run of the job does: the tests' own F.col calls are quicker too
    yield session
    session.stop()


@pytest.fixture(autouse=True, scope="module")
def _release_cached_frames() -> Iterator[None]:
    """After each module, drop what its tests kept in Spark's memory (the one JVM serves the whole run)."""
    yield
    active = SparkSession.getActiveSession()
    if active is not None:
        active.catalog.clearCache()


# A real local run of the job, two slots of one day on the simulated world, once a session: what the report, the
# KPI catalog, the Athena DDL and the dashboard tests read.
SLOTS = (RunSlot.parse("2026-11-22T14"), RunSlot.parse("2026-11-22T16"))


@dataclass(frozen=True)
class Lake:
    """A data root holding the job's output for SLOTS, and the manifests the runs returned."""

    root: str
    slots: tuple[RunSlot, ...]
    manifests: tuple[dict[str, Any], ...]


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory, spark) -> Lake:
    """Run `etl.orchestration.pipeline.run` for each slot into a temporary data root (small simulated world)."""
    from etl.orchestration.pipeline import run

    root = str(tmp_path_factory.mktemp("lake"))
    manifests = tuple(
        run(JobConfig(data_root=root, run_slot=slot, source="demo", demo_flights=3000), spark=spark) for slot in SLOTS
    )
    assert all(m["status"] == "succeeded" for m in manifests)
    return Lake(root, SLOTS, manifests)
