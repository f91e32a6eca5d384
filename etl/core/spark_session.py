"""The project's Spark settings, defined once: the job, the EMR step, `show` and the tests start their sessions here.

What Spark must know before its JVM starts (the JVM's flags, the log level, the console progress bars) cannot be
set per session: the local command line reads it from `etl/core/spark_conf/` instead
(`etl.presentation.console.quiet_spark`).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from py4j.java_gateway import JavaClass, JavaMember, java_import
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from etl.core.errors import JobError

# Read when a session starts, and only then (Spark's static SQL settings): a running session keeps its own.
START_SETTINGS: dict[str, str] = {
    # Spark compiles the Java code it generates for a query's operators, and keeps each class for the same code:
    # 100 classes by default, while one run of the job generates about 230. The next run in the session (a local
    # backfill's next group, the tests' runs, a long-lived session) then compiled every one again, and the JIT the
    # new classes: 2.3 s of a warm 800-flight run (Spark's CodeGenerator log), which now compiles none; the test
    # suite in one process took 23 min instead of 26. An EMR step's session is started by spark-submit with the
    # cluster's default, as it runs one slot (or one backfill) and stops.
    "spark.sql.codegen.cache.maxEntries": "5000",
}

# What every session of the project has: times are read, computed and shown in UTC.
BASE_SETTINGS: dict[str, str] = {"spark.sql.session.timeZone": "UTC", **START_SETTINGS}

# The job's settings, whatever the master; benchmarks/transform_scale.py measures with the same ones.
SPARK_SETTINGS: dict[str, str] = {
    **BASE_SETTINGS,
    # A snapshot is tens of thousands of rows: a few shuffle partitions, not the default 200.
    "spark.sql.shuffle.partitions": "8",
    # Parquet readers other than Spark (Athena, DuckDB) need no _SUCCESS marker.
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    # Whole-stage code over 8,000 bytes of bytecode is never JIT-compiled by the JVM and runs interpreted;
    # past this limit Spark splits the plan instead (cleaning's fused per-column checks ran ~2x slower).
    "spark.sql.codegen.hugeMethodLimit": "8000",
    # The in-memory copies (clean's typed rows, the enriched live flights) live for one run and are read a few
    # times: choosing and applying a compression scheme per column cost far more CPU than it saved memory (at
    # 2,000,000 rows: clean ~7 s slower compressed, for a copy of 308 MB instead of 328 MB).
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # Input splits of at most 32 MB (default 128 MB) keep every core busy to the end of a scan: a 2,000,000-row
    # backfill of 250 MB made 5 tasks for 2 cores, the last running alone (clean ~4 s slower). A single
    # snapshot of tens of thousands of rows is one split either way.
    "spark.sql.files.maxPartitionBytes": str(32 * 1024 * 1024),
}

# A reader of published tables (`etl show`) computes nothing large: the base settings are all it needs.
READER_SETTINGS: dict[str, str] = dict(BASE_SETTINGS)

# Spark copies `spark.hadoop.<name>` into the context's Hadoop configuration (as `<name>`) when the context starts.
_HADOOP_PREFIX = "spark.hadoop."


class JavaMissingError(JobError):
    """No Java for Spark's JVM: neither JAVA_HOME nor `java` on PATH."""


def require_java() -> None:
    """Raise JavaMissingError unless Spark can start a JVM: JAVA_HOME/bin/java, else `java` on PATH (as spark-submit
    looks). Checked before a run extracts, so that a machine without Java learns it at once, not after the capture."""
    home = os.environ.get("JAVA_HOME")
    if home and not (Path(home) / "bin" / "java").is_file():
        raise JavaMissingError(f"JAVA_HOME is {home}, which has no bin/java: point it at a Java 17 or later")
    if not home and shutil.which("java") is None:
        raise JavaMissingError(
            "Java 17 or later is required by Spark and was not found: install it (Debian: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


def session_builder(
    app_name: str, master: str | None = None, settings: Mapping[str, str] = SPARK_SETTINGS
) -> SparkSession.Builder:
    """A session builder with `settings`; on a given master, no web UI; on a local one, this Python for workers."""
    builder = SparkSession.builder.appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    if master:
        builder = builder.master(master).config("spark.ui.enabled", "false")
        if master.startswith("local"):
            # Python workers must run this interpreter (the venv's), not whatever `python3` is first on PATH.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return builder


def apply_settings(spark: SparkSession, settings: Mapping[str, str] = SPARK_SETTINGS) -> None:
    """Apply `settings` to a session already running: SQL settings to the session, Hadoop ones to its context
    (START_SETTINGS, which only a session's start reads, are left as they are)."""
    # The EMR step starts Spark before `etl` can be imported (the package reaches the cluster as a zip that only
    # a running context can add), so the settings a builder would give at start are applied here instead,
    # before the job runs any Spark work. The cluster's own settings (master, memory, executors) stay EMR's.
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()  # the configuration every job of the context copies
    for key, value in settings.items():
        if key in START_SETTINGS:  # the session's own, from its start
            continue
        if key.startswith(_HADOOP_PREFIX):
            hadoop.set(key.removeprefix(_HADOOP_PREFIX), value)
        else:
            spark.conf.set(key, value)


# The JVM classes PySpark reaches by their short name (`sc._jvm.functions` at every `F.col`, `F.when` ...; a warm run
# of the job makes about 2,000 such look-ups, and 250 of PythonUtils). Py4J tries a short name in the default
# package, then in each package PySpark imports with a star, one class-loader miss after another, each a search of
# every jar on the classpath: seven for `functions`. Imported by name here (Py4J's `java_import`, as PySpark imports
# its own), it costs one miss: 2,000 `F.col` calls take 0.9 s instead of 1.6 s.
JVM_SHORT_NAMES = (
    "org.apache.spark.sql.functions",
    "org.apache.spark.sql.Column",
    "org.apache.spark.sql.SparkSession",
    "org.apache.spark.api.python.PythonUtils",
    "org.apache.spark.api.python.PythonRDD",
    "org.apache.spark.api.python.SerDeUtil",
    "org.apache.spark.api.python.SimplePythonFunction",
)


def import_short_names(spark: SparkSession) -> None:
    """Import JVM_SHORT_NAMES into the session's JVM view, each class found once; harmless when done again.

    Py4J asks the JVM at every attribute access: `sc._jvm.functions` for the class, then `.col` for its method, then
    the call itself, three round trips for each `F.col`. The view here holds each class once found, and each class
    its static methods once found (`_MethodsFound`): one round trip, the call. A warm 800-flight run made 15,500 round
    trips, now 10,900 (4,000 of them Py4J releasing what Python no longer references), and took 6 % less time.
    """
    for name in JVM_SHORT_NAMES:
        jvm_class(spark, name)


def jvm_class(spark: SparkSession, name: str) -> JavaClass:
    """The JVM class of full name `name`, imported into the session's JVM view and kept there with its static methods
    (`_MethodsFound`): found once per view, then no round trip but the calls themselves."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None, "the Spark session is stopped"
    short = name.rsplit(".", 1)[1]
    found = jvm.__dict__.get(short)
    if not isinstance(found, _MethodsFound):
        java_import(jvm, name)
        found = getattr(jvm, short)
        found.__class__ = _MethodsFound
        jvm.__dict__[short] = found  # an attribute of the view now: Python finds it without asking the JVM
    return found


class _MethodsFound(JavaClass):
    """A JVM class whose static methods and inner classes are looked up in the JVM once, then kept (fields, whose
    values may change, are asked for each time)."""

    def __getattr__(self, name: str) -> Any:
        member = super().__getattr__(name)
        if isinstance(member, (JavaMember, JavaClass)):
            self.__dict__[name] = member
        return member


def keep(frame: DataFrame) -> DataFrame:
    """`frame`, computed now and kept for the later queries of the run that read it (silver, the live flights).

    On a local master, a local checkpoint: the rows stay in this JVM's block manager (memory, then disk) and the
    returned frame's plan is one scan of them. On a cluster, persisted instead, its lineage kept: a lost executor's
    blocks (Core nodes run on Spot) are recomputed rather than failing the run. The difference is speed: Spark
    describes each query's whole plan in its listener events, again at every adaptive stage, and a persisted
    frame's description carries the full plan that built it. The demo's gold writes described 1 MB of plan apiece,
    40% of a warm local run's CPU; with the checkpoint a warm 800-flight run takes 16-21 s instead of 28-30 s
    (same answers). `unpersist()` releases a persisted frame; a checkpoint's blocks go when the frame is collected
    (Spark's context cleaner).
    """
    if (frame.sparkSession.sparkContext.master or "").startswith("local"):
        return frame.localCheckpoint(eager=True)
    return frame.persist(StorageLevel.MEMORY_AND_DISK)
