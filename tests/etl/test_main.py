"""The EMR step: run the way the cluster runs it (`spark-submit main.py` against the zipped package only) where the
zip's route is what is tested; its exit codes and lines, by `etl.main.step` on the tests' own session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etl.core.layout import RunSlot
from etl.core.spark_session import SPARK_SETTINGS, START_SETTINGS
from etl.main import EXIT_BAD_CONFIG, EXIT_JOB_FAILED, parse_args, step
from etl.publication.lake import runtime_jar
from infra.packaging import write_package_zip
from lambda_trigger.cluster_request import ICEBERG_EXTENSIONS
from tests.etl.lakes import runs_of
from tests.paths import REPO, short_run_java_options

SPARK_SUBMIT = Path(sys.executable).parent / "spark-submit"
# The eight gold tables of DESIGN.md, written out rather than imported: the test checks the job, not itself.
GOLD = [
    "airline_most_live_flights",
    "airline_most_regional_flights_by_continent",
    "longest_live_flight",
    "average_route_distance_by_continent",
    "manufacturer_most_live_flights",
    "top_models_by_airline_country",
    "most_used_model_by_continent",
    "airport_flow_imbalance",
]
# The venv has the repository installed in editable mode; this start-up hook takes that route away, so the
# job can import `etl` only from the zip that main.py adds, as on the cluster.
NO_SOURCE_TREE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "").lower()]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in getattr(h, "__module__", "").lower()]
sys.path[:] = [p for p in sys.path if "__editable__" not in p and p.rstrip("/") != {repo!r}]
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SPARK_SUBMIT.exists(), reason=f"{SPARK_SUBMIT} not found (pyspark not installed?)"),
    pytest.mark.skipif(shutil.which("java") is None, reason="Java is needed to run spark-submit"),
]


@pytest.fixture(scope="module")
def step_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only what the step gets: main.py, etl.zip, the job config, and the start-up hook."""
    work = tmp_path_factory.mktemp("emr_step")
    shutil.copy(REPO / "etl" / "main.py", work / "main.py")
    write_package_zip(REPO / "etl", work / "etl.zip")
    (work / "job_config.json").write_text(json.dumps({"source": "demo", "demo_flights": 400}))
    hook = work / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(NO_SOURCE_TREE.format(repo=str(REPO)))
    return work


def _env(step_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYSPARK", "SPARK_"))}
    env.update(
        PYTHONPATH=str(step_dir / "hook"),  # only the hook: no source tree
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    return env


@pytest.fixture
def session(spark):
    """The tests' session for a step run in this process, its settings put back afterwards (a step applies the
    job's own, etl.core.spark_session.SPARK_SETTINGS, to the session it is given: all but START_SETTINGS)."""
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    names = {key: key.removeprefix("spark.hadoop.") for key in SPARK_SETTINGS if key.startswith("spark.hadoop.")}
    running = [key for key in SPARK_SETTINGS if key not in names and key not in START_SETTINGS]
    session_before = {key: spark.conf.get(key, None) for key in running}
    hadoop_before = {name: hadoop.get(name) for name in names.values()}
    yield spark
    for key, value in session_before.items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)
    for name, value in hadoop_before.items():
        if value is None:
            hadoop.unset(name)
        else:
            hadoop.set(name, value)


def _step(spark, capsys, *args: str) -> tuple[int, list[str], str]:
    """`main.py ARGS` run by etl.main.step on `spark`: its exit code, its `error:` lines and what it printed."""
    code = step(spark, parse_args(args))
    out = capsys.readouterr()
    return code, [line for line in out.err.splitlines() if line.startswith("error: ")], out.out


def _spark_submit(step_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # What the cluster's classifications give every step (lambda_trigger/cluster_request.py): Iceberg's runtime on
    # the classpath (`iceberg-defaults`; here the locked jar) and its SQL extensions (`spark-defaults`).
    command = [str(SPARK_SUBMIT), "--master", "local[2]", "--conf", "spark.ui.enabled=false"]
    # A step here is one short run in a JVM of its own: the JVM flags the local command line gives such runs. They
    # change how fast, not what: this file took 114 s instead of 139 s, and 2.1 min of CPU instead of 3.8.
    command += ["--driver-java-options", short_run_java_options()]
    command += ["--jars", runtime_jar(), "--conf", f"spark.sql.extensions={ICEBERG_EXTENSIONS}", "main.py", *args]
    return subprocess.run(command, cwd=step_dir, env=_env(step_dir), capture_output=True, text=True, timeout=600)


def test_source_tree_is_out_of_reach(step_dir: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import etl"], cwd=step_dir, env=_env(step_dir), capture_output=True, text=True
    )
    assert probe.returncode == 1
    assert "No module named 'etl'" in probe.stderr


def test_step_runs_the_slot_from_the_zip_and_writes_every_gold_table(step_dir: Path) -> None:
    lake = step_dir / "lake"
    done = _spark_submit(
        step_dir,
        *("--code", "etl.zip", "--config", "job_config.json", "--run-slot", "2026-11-22T14:00:00Z"),
        *("--data-root", str(lake)),
    )

    assert done.returncode == 0, [line for line in done.stdout.splitlines() if line.startswith("error: ")]
    partition = "tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14"
    (manifest_file,) = (lake / "runs").glob("*.json")
    manifest = json.loads(manifest_file.read_text())
    for table in GOLD:
        # Each gold table is an Iceberg table whose slot holds this run's rows only.
        assert list((lake / "warehouse/flight_kpis" / table / "data" / partition).glob("*.parquet")), table
        assert runs_of(str(lake), table, RunSlot.parse("2026-11-22T14")) == {manifest["run_id"]}, table
        assert table in manifest["snapshots"]
    assert manifest["run_slot"] == "2026-11-22T14"
    assert manifest["status"] == "succeeded"
    assert manifest["source"] == "demo"
    assert f"of slot 2026-11-22T14: {manifest['status']}" in done.stdout


def test_unusable_config_fails_the_step_with_one_line(session, step_dir: Path, capsys) -> None:
    (step_dir / "bad_config.json").write_text(json.dumps({"source": "demo", "extract": {"concurrency": 0}}))

    code, errors, _ = _step(
        session,
        capsys,
        *("--code", "etl.zip", "--config", str(step_dir / "bad_config.json"), "--run-slot", "2026-11-22T14"),
        *("--data-root", str(step_dir / "bad_lake")),
    )

    assert code == EXIT_BAD_CONFIG == 2
    assert errors == [
        f"error: job config {step_dir / 'bad_config.json'}: extract: concurrency must be between 1 and 64"
    ]
    assert not (step_dir / "bad_lake").exists()


def test_a_failed_quality_gate_fails_the_step(session, step_dir: Path, capsys) -> None:
    # 400 simulated flights can never make 1,000,000 live flights: the gate fails, the step must fail too.
    config = {"source": "demo", "demo_flights": 400, "quality": {"min_live_flights": 1_000_000}}
    (step_dir / "strict_config.json").write_text(json.dumps(config))
    lake = step_dir / "strict_lake"

    code, errors, _ = _step(
        session,
        capsys,
        *("--code", "etl.zip", "--config", str(step_dir / "strict_config.json"), "--run-slot", "2026-11-22T16"),
        *("--data-root", str(lake)),
    )

    assert code == EXIT_JOB_FAILED == 1
    assert len(errors) == 1
    assert errors[0].startswith("error: QualityGateError: quality gate failed: live_flights (")
    assert "(min_live_flights 1000000))" in errors[0]
    # Nothing published: the gold tables exist (the run created them) and hold no data file.
    for table in GOLD:
        assert (lake / "warehouse/flight_kpis" / table / "metadata").is_dir(), table
        assert list((lake / "warehouse/flight_kpis" / table).rglob("*.parquet")) == [], table
    (manifest_file,) = (lake / "runs").glob("*.json")
    manifest = json.loads(manifest_file.read_text())
    assert manifest["status"] == "failed"
    assert manifest["quality"]["failed"] == ["live_flights"]


def test_backfill_step_recomputes_the_slots_of_its_range(session, step_dir: Path, capsys) -> None:
    lake = step_dir / "lake"  # the slot the first test's step published
    if not (lake / "runs").is_dir():
        test_step_runs_the_slot_from_the_zip_and_writes_every_gold_table(step_dir)

    code, errors, printed = _step(
        session,
        capsys,
        *("--code", "etl.zip", "--config", str(step_dir / "job_config.json")),
        *("--backfill-from", "2026-11-22T00", "--backfill-to", "2026-11-22T23", "--data-root", str(lake)),
    )

    assert code == 0, errors
    assert ": 1 of 1 slots published" in printed
    manifests = [json.loads(p.read_text()) for p in (lake / "runs").glob("*.json")]
    (backfilled,) = [m for m in manifests if m["source"] == "backfill"]
    assert backfilled["run_slot"] == "2026-11-22T14" and backfilled["status"] == "succeeded"
    (scheduled,) = [m for m in manifests if m["source"] == "demo"]
    assert backfilled["counts"]["gold"] == scheduled["counts"]["gold"]


def test_backfill_step_needs_both_ends_of_its_range(step_dir: Path) -> None:
    only_from = ("--backfill-from", "2026-11-22T00")
    done = _spark_submit(step_dir, "--code", "etl.zip", "--config", "job_config.json", *only_from)

    assert done.returncode == 2
    assert "a backfill needs --backfill-from and --backfill-to, and no --run-slot" in done.stdout + done.stderr
