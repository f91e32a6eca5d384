"""The Spark settings' one home: what it applies to a running session, and what it leaves to spark_conf/."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from etl.spark_session import SPARK_SETTINGS, apply_settings
from tests.paths import REPO

MARKER = "mapreduce.fileoutputcommitter.marksuccessfuljobs"
SPARK_CONF = REPO / "etl" / "spark_conf" / "spark-defaults.conf"


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
