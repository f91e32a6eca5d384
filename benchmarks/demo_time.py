"""Where `make demo`'s time goes: the demo command timed end to end, with each stage from its own JSON log.

Runs `python -m etl run --demo ... --show --report` (what `make demo` runs) as a fresh process per run, side by
side in one go:
- "Spark defaults": Spark's own configuration, as the command ran before etl/spark_conf existed (SPARK_CONF_DIR
  points at an empty folder): warnings, progress bars and all;
- "etl/spark_conf": the command line's settings (errors-only log, no progress bars, the JVM and SQL settings of
  etl/spark_conf/spark-defaults.conf).
Each variant runs `--rounds` times, interleaved, and the table shows each one's fastest run; the answers of every
run are compared, so a setting that changed them would be caught. Needs Java; run it on a quiet machine:
    .venv/bin/python benchmarks/demo_time.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SLOT = "2026-11-22T14"
STAGES = ("extract", "clean", "kpis", "publish")


TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Add the CPU seconds (user + system) of `root` and its descendants, as /proc shows them now, to `seen`."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    for pid, cpu in times.items():
        ancestor = pid
        while ancestor not in (0, 1, root):
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu)


def run_demo(conf_dir: Path) -> dict[str, Any]:
    """One demo run in a new process: wall time, CPU seconds of the process tree (the JVM too), stages, answers."""
    with tempfile.TemporaryDirectory(prefix="demo-time-") as root:
        env = {**os.environ, "SPARK_CONF_DIR": str(conf_dir), "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "etl", "run", "--demo", "--data-root", root, "--run-slot", SLOT]
        command += ["--show", "--report", "--log-format", "json"]
        out, err = Path(root) / "stdout", Path(root) / "stderr"
        started = time.perf_counter()
        with out.open("wb") as stdout_file, err.open("wb") as stderr_file:
            process = subprocess.Popen(command, stdout=stdout_file, stderr=stderr_file, env=env, cwd=REPO)
            cpu: dict[int, float] = {}
            # The JVM is the Python process's child and is not waited for, so its CPU time is read while it runs.
            while process.poll() is None:
                _tree_cpu(process.pid, cpu)
                time.sleep(0.2)
        wall = time.perf_counter() - started
        stdout, stderr = out.read_text(), err.read_text(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"demo failed ({process.returncode}): {stderr[-2000:]}")
    events = [json.loads(line) for line in stdout.splitlines()]
    stages = {e["stage"]: e["seconds"] for e in events if e["event"] == "stage_finished"}
    (answers,) = [e["answers"] for e in events if e["event"] == "answers"]
    total = next(e["seconds"] for e in events if e["event"] == "run_succeeded")
    return {"wall": wall, "cpu": sum(cpu.values()), "stages": stages, "job": total, "answers": answers}


def main() -> None:
    """Print the table of fastest runs and the ratio between the two variants."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spark-defaults-") as empty:
        variants = {"Spark defaults": Path(empty), "etl/spark_conf": REPO / "etl" / "spark_conf"}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, conf_dir in variants.items():
                runs[name].append(run_demo(conf_dir))
    reference = runs["Spark defaults"][0]["answers"]
    same = all(run["answers"] == reference for variant in runs.values() for run in variant)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; answers identical: {same}")
    print("| settings | wall (make demo) | CPU, all processes | outside the job | " + " | ".join(STAGES) + " |")
    print("|---|---|---|---|" + "---|" * len(STAGES))
    best, cpu = {}, {}
    for name, variant in runs.items():
        fastest = min(variant, key=lambda r: r["wall"])
        best[name], cpu[name] = fastest["wall"], min(r["cpu"] for r in variant)
        stage_cells = " | ".join(f"{fastest['stages'].get(s, 0.0):.1f} s" for s in STAGES)
        # Outside the job: the interpreter, imports and the JVM's start, then the answers and the HTML dashboard.
        outside = fastest["wall"] - fastest["job"]
        cells = f"{fastest['wall']:.1f} s | {fastest['cpu']:.1f} s | {outside:.1f} s | {stage_cells}"
        print(f"| {name} | {cells} |")
    # On a busy machine the wall times mostly measure the other processes; the CPU seconds much less so.
    wall_ratio = best["Spark defaults"] / best["etl/spark_conf"]
    cpu_ratio = cpu["Spark defaults"] / cpu["etl/spark_conf"]
    print(f"ratios, fastest of {args.rounds} each: wall {wall_ratio:.2f}x, CPU {cpu_ratio:.2f}x")
    if not same:
        raise SystemExit("the answers differ between runs")


if __name__ == "__main__":
    main()
