"""Run the job on a small world and SIGKILL the whole process group at one commit point (a test's subprocess).

`python -m tests.etl.run_and_die ROOT SLOT SEED POINT`: POINT is `commit:N` (after the run's N-th table commit),
`manifest` (after the run's manifest, before the runs table) or `none` (run to the end).
"""

from __future__ import annotations

import os
import signal
import sys

from etl.core.config import JobConfig
from etl.core.layout import RunSlot
from etl.orchestration import pipeline
from etl.publication.spark_lake import Lake


def _die() -> None:
    sys.stdout.flush()
    os.killpg(0, signal.SIGKILL)  # Spark's JVM included: nothing of the run survives to clean up


def main(root: str, slot: str, seed: str, point: str) -> None:
    if point.startswith("commit:"):
        limit, done = int(point.split(":")[1]), []
        real_commit = Lake.commit

        def commit(self, *args, **kwargs):
            snapshot = real_commit(self, *args, **kwargs)
            done.append(snapshot)
            if len(done) >= limit:
                _die()
            return snapshot

        Lake.commit = commit  # type: ignore[method-assign]
    elif point == "manifest":
        real_append = Lake.append_runs

        def append_runs(self, rows):
            if any(r["status"] != "failed" for r in rows):
                _die()
            return real_append(self, rows)

        Lake.append_runs = append_runs  # type: ignore[method-assign]
    config = JobConfig(
        data_root=root, run_slot=RunSlot.parse(slot), source="demo", demo_flights=800, demo_seed=int(seed)
    )
    config = JobConfig(**{**config.__dict__, "spark_master": "local[2]"})
    print(pipeline.run(config)["run_id"])


if __name__ == "__main__":
    main(*sys.argv[1:5])
