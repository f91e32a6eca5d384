"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from etl.spark_session import BASE_SETTINGS, session_builder

# pyspark.testing imports pandas-on-Spark, which asks for this before any Spark context exists.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One small local Spark session for the whole test run."""
    # The project's base settings (etl/spark_session.py); test frames are tiny: 4 shuffle partitions.
    settings = {**BASE_SETTINGS, "spark.sql.shuffle.partitions": "4"}
    session = session_builder("flight-kpis-tests", "local[2]", settings).getOrCreate()
    yield session
    session.stop()
