"""Where the tests find the repository and the real FR24 captures (`../shared/samples/fr24`, beside the clone)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "fr24"


def short_run_java_options() -> str:
    """The JVM flags the local command line gives its one-run JVMs (C1 only, the serial collector), read from
    etl/core/spark_conf/spark-defaults.conf: for the tests' own short runs in a process of their own."""
    defaults = REPO / "etl" / "core" / "spark_conf" / "spark-defaults.conf"
    for line in defaults.read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition(" ")
        if key == "spark.driver.extraJavaOptions":
            return value.strip()
    raise LookupError(f"no spark.driver.extraJavaOptions in {defaults}")
