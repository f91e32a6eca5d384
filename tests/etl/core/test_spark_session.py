"""The Spark settings' one home: what it applies to a running session, and what it leaves to spark_conf/."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from etl.core.spark_session import (
    JVM_SHORT_NAMES,
    SPARK_SETTINGS,
    START_SETTINGS,
    apply_settings,
    import_short_names,
    keep,
)
from tests.paths import REPO

MARKER = "mapreduce.fileoutputcommitter.marksuccessfuljobs"
SPARK_CONF = REPO / "etl" / "core" / "spark_conf" / "spark-defaults.conf"


def test_settings_applied_to_a_running_session_reach_its_sql_and_hadoop_configuration(
    spark: SparkSession, tmp_path: Path
) -> None:
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    previous_marker, previous_partitions = hadoop.get(MARKER), spark.conf.get("spark.sql.shuffle.partitions")
    frame = spark.createDataFrame([(1,)], "n int")
    frame.write.parquet(str(tmp_path / "before"))
    try:
        apply_settings(spark, {f"spark.hadoop.{MARKER}": "false", "spark.sql.shuffle.partitions": "3"})
        frame.write.parquet(str(tmp_path / "after"))
        partitions = spark.conf.get("spark.sql.shuffle.partitions")
    finally:
        if previous_marker is None:
            hadoop.unset(MARKER)
        else:
            hadoop.set(MARKER, previous_marker)
        spark.conf.set("spark.sql.shuffle.partitions", previous_partitions)

    assert (tmp_path / "before" / "_SUCCESS").exists()  # Hadoop's default: a marker per written folder
    assert not (tmp_path / "after" / "_SUCCESS").exists()
    assert partitions == "3"


def test_the_generated_class_cache_is_set_at_start_and_applying_the_job_settings_leaves_it(
    spark: SparkSession,
) -> None:
    # Read at the session's start only: the tests' session was built with it; applied again, it is skipped, where
    # setting it on the running session would raise (Spark's static settings cannot be modified).
    assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == START_SETTINGS["spark.sql.codegen.cache.maxEntries"]
    partitions = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        apply_settings(spark, {**START_SETTINGS, "spark.sql.shuffle.partitions": partitions})
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", partitions)
    assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == START_SETTINGS["spark.sql.codegen.cache.maxEntries"]


def test_the_job_settings_are_the_ones_the_readme_cites() -> None:
    assert SPARK_SETTINGS["spark.sql.session.timeZone"] == "UTC"
    assert SPARK_SETTINGS["spark.sql.shuffle.partitions"] == "8"
    assert SPARK_SETTINGS["spark.sql.inMemoryColumnarStorage.compressed"] == "false"
    assert SPARK_SETTINGS["spark.sql.files.maxPartitionBytes"] == "33554432"  # 32 MB
    assert SPARK_SETTINGS[f"spark.hadoop.{MARKER}"] == "false"


def test_the_command_line_conf_file_holds_only_what_a_session_cannot_set() -> None:
    keys = {
        line.split()[0] for line in SPARK_CONF.read_text().splitlines() if line.strip() and not line.startswith("#")
    }

    # JVM start-up options (its flags, its heap), the console's progress bars and the status store's sizes; no
    # setting is defined both there and in SPARK_SETTINGS.
    assert keys == {
        "spark.ui.showConsoleProgress",
        "spark.driver.extraJavaOptions",
        "spark.driver.memory",
        "spark.ui.retainedJobs",
        "spark.ui.retainedStages",
        "spark.sql.ui.retainedExecutions",
    }
    assert not keys & set(SPARK_SETTINGS)


def test_a_kept_frame_on_a_local_master_is_its_rows_behind_a_one_scan_plan(spark: SparkSession) -> None:
    source = spark.createDataFrame([(n, n % 3) for n in range(30)], "n int, k int")
    built = source.where("k > 0").groupBy("k").count()  # a plan of a scan, a filter, an aggregate and a shuffle

    kept = keep(built)

    assert sorted(map(tuple, kept.collect())) == [(1, 10), (2, 10)]
    plan = kept._jdf.queryExecution().analyzed().toString()
    assert plan.lstrip().startswith("LogicalRDD") and "Aggregate" not in plan and "Filter" not in plan


def test_a_kept_frame_on_a_cluster_is_persisted_with_its_lineage() -> None:
    calls = []
    frame = SimpleNamespace(
        sparkSession=SimpleNamespace(sparkContext=SimpleNamespace(master="yarn")),
        persist=lambda level: calls.append(str(level)) or "persisted",
    )

    assert keep(frame) == "persisted"  # type: ignore[arg-type]
    assert calls == [str(StorageLevel.MEMORY_AND_DISK)]


def test_each_short_name_imported_is_a_class_pyspark_reaches_by_it(spark: SparkSession) -> None:
    import_short_names(spark)
    jvm = spark.sparkContext._jvm
    for name in JVM_SHORT_NAMES:
        short = name.rsplit(".", 1)[1]
        # A misspelt import would cost nothing and save nothing: each names a real class ...
        assert jvm.java.lang.Class.forName(name).getName() == name
        # ... which the session's view finds by its short name, as PySpark asks for it.
        assert getattr(jvm, short)._fqn == name


def test_a_column_function_is_one_round_trip_once_the_names_are_imported(spark: SparkSession, monkeypatch) -> None:
    import_short_names(spark)
    F.col("warm"), F.lit(0)  # each method found once, then kept
    client = spark.sparkContext._gateway._gateway_client
    sent: list[str] = []
    real_send = client.send_command

    def counted(command: str, *args, **kwargs):
        sent.append(command)
        return real_send(command, *args, **kwargs)

    monkeypatch.setattr(client, "send_command", counted)
    column = F.col("id") + F.lit(1)
    monkeypatch.undo()

    # Py4J's commands: `r` asks the JVM what a name is (a class, a method), `c` calls. Before, each F.col and F.lit
    # asked twice (the class `functions`, then its method) before calling.
    assert [command.split("\n", 1)[0] for command in sent] == ["c", "c", "c"]  # col, lit, plus
    assert [row["n"] for row in spark.range(3).select(column.alias("n")).collect()] == [1, 2, 3]
    assert spark.sparkContext._jvm.functions.col("id").toString() == "id"  # the kept class still answers
