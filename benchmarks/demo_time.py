"""`make demo` against Spark's floor: the demo command and a bare local Spark job, timed side by side.

Runs, as fresh processes, alternating, `--rounds` times each (best of the rounds is kept for each):
- "bare Spark": a local[*] session started with the job's own settings, Iceberg's jar and the command line's
  etl/core/spark_conf, and one trivial action (`spark.range(1).count()`): the floor any Spark job pays;
- "make demo": `python -m etl run --demo ... --show --report` (what `make demo` runs), 20,000 flights, every table
  committed to the local Iceberg lake, the answers printed and the HTML dashboard written.
The answers of every demo run are compared, so a change that altered them would be caught. With `--before REV`
a third command joins the rotation: the same demo command on the code of commit REV (extracted with `git archive`
into a temporary folder, run with this venv), to show what a change cost or saved; the answers of both are compared
and any KPI whose answer differs is named. Run it on a quiet machine:
    .venv/bin/python benchmarks/demo_time.py [--rounds 2] [--before 21d3e46]
(21d3e46: the last commit before the lake moved to Iceberg.)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SLOT = "2026-11-22T14"
STAGES = ("extract", "spark_start", "clean", "quality", "kpis", "publish")
BARE = """
from etl.publication.lake import runtime_jar
from etl.core.spark_session import SPARK_SETTINGS, session_builder
spark = session_builder("bare", "local[*]", SPARK_SETTINGS).config("spark.jars", runtime_jar()).getOrCreate()
assert spark.range(1).count() == 1
spark.stop()
"""


def _spark_conf(tree: Path) -> Path:
    """The command line's Spark settings folder of a source tree (it moved with the code)."""
    return next((p for p in (tree / "etl" / "core" / "spark_conf", tree / "etl" / "spark_conf") if p.is_dir()), tree)


def _env(tree: Path = REPO) -> dict[str, str]:
    return {**os.environ, "SPARK_CONF_DIR": str(_spark_conf(tree)), "PYTHONPATH": str(tree)}


def checkout(rev: str, into: Path) -> Path:
    """The tracked files of commit `rev`, written under `into` (no worktree, nothing left in the repository)."""
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_bare() -> float:
    """The floor: a new process that starts local Spark and runs one trivial action; its wall time."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BARE], env=_env(), cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bare Spark failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


def run_demo(tree: Path = REPO) -> dict[str, Any]:
    """One demo run in a new process, on the code of `tree`: wall time, the job's stages and its answers."""
    with tempfile.TemporaryDirectory(prefix="demo-time-") as root:
        command = [sys.executable, "-m", "etl", "run", "--demo", "--data-root", root, "--run-slot", SLOT]
        command += ["--show", "--report", "--log-format", "json"]
        started = time.perf_counter()
        done = subprocess.run(command, env=_env(tree), cwd=tree, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"demo failed ({done.returncode}) in {tree}: {done.stderr[-2000:]}")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    stages = {e["stage"]: e["seconds"] for e in events if e["event"] == "stage_finished"}
    (answers,) = [e["answers"] for e in events if e["event"] == "answers"]
    return {"wall": wall, "stages": stages, "answers": answers}


def _rounded(value: Any) -> Any:
    """`value` with every float rounded to 6 decimals, for comparing answers computed in another order."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main() -> None:
    """Print both fastest runs, the demo's stages and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", metavar="REV", help="also time the demo on the code of this commit")
    args = parser.parse_args()
    bare: list[float] = []
    demos: list[dict[str, Any]] = []
    befores: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="demo-before-") as folder:
        before_tree = checkout(args.before, Path(folder)) if args.before else None
        for _ in range(args.rounds):  # alternating, so a busier minute weighs on every command alike
            bare.append(run_bare())
            demos.append(run_demo())
            if before_tree is not None:
                befores.append(run_demo(before_tree))
    same = all(d["answers"] == demos[0]["answers"] for d in demos)
    floor, fastest = min(bare), min(demos, key=lambda d: d["wall"])
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; answers identical: {same}")
    print("| command | wall, best of " + str(args.rounds) + " | every run |")
    print("|---|---|---|")
    print(f"| bare Spark (start + one action) | {floor:.1f} s | {', '.join(f'{b:.1f}' for b in bare)} |")
    walls = ", ".join(f"{d['wall']:.1f}" for d in demos)
    print(f"| make demo (20,000 flights) | {fastest['wall']:.1f} s | {walls} |")
    print("demo stages: " + ", ".join(f"{s} {fastest['stages'].get(s, 0.0):.1f} s" for s in STAGES))
    print(f"ratio demo / bare Spark: {fastest['wall'] / floor:.2f}x")
    if befores:
        earlier = min(befores, key=lambda d: d["wall"])
        walls_before = ", ".join(f"{d['wall']:.1f}" for d in befores)
        print(f"| make demo at {args.before} | {earlier['wall']:.1f} s | {walls_before} |")
        print(f"demo now - demo at {args.before}: {fastest['wall'] - earlier['wall']:+.1f} s")
        print(f"demo at {args.before} stages: " + ", ".join(f"{s} {v:.1f} s" for s, v in earlier["stages"].items()))
        keys = sorted({*earlier["answers"], *fastest["answers"]})
        differ = [k for k in keys if _rounded(earlier["answers"].get(k)) != _rounded(fastest["answers"].get(k))]
        last_digits = [k for k in keys if k not in differ and earlier["answers"].get(k) != fastest["answers"].get(k)]
        print("answers now and before: " + ("identical" if not differ else "differ in " + ", ".join(differ)))
        if last_digits:  # a sum of floats in another order: the same answer to far below a metre
            print("equal to 6 decimals, not in the last digits of a float: " + ", ".join(last_digits))
    if not same:
        raise SystemExit("the answers differ between runs")


if __name__ == "__main__":
    main()
