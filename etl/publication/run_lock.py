"""Which runs are still going on, so that a repair never rolls back a run that is only half-way through.

Locally each run holds a lock (`_running/<run_id>.lock`), an advisory lock the kernel releases when the process dies,
even by SIGKILL. On S3 no such lock exists: a run younger than LIVE_RUN_HOURS counts as going on (the trigger never
starts two clusters for one slot, and a cluster's run ends well within that).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from etl.core.layout import join
from etl.core.storage import is_s3
from etl.publication.manifest import run_started

LIVE_RUN_HOURS = 3  # on S3: a run younger than this is taken as still going on


def lock_path(root: str, run_id: str) -> str:
    return join(root, "_running", f"{run_id}.lock")


@contextmanager
def running(root: str, run_id: str) -> Iterator[None]:
    """Hold the run's lock while it runs (local roots; on S3 a no-op, see LIVE_RUN_HOURS)."""
    if is_s3(root):
        yield
        return
    import fcntl

    path = Path(lock_path(root, run_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def is_live(root: str, run_id: str, now: datetime | None = None) -> bool:
    """Whether a run is still going on: its lock is held (local), or it started under LIVE_RUN_HOURS ago (S3)."""
    if is_s3(root):
        started = run_started(run_id)
        return started is not None and (now or datetime.now(timezone.utc)) - started < timedelta(hours=LIVE_RUN_HOURS)
    import fcntl

    path = Path(lock_path(root, run_id))
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    path.unlink(missing_ok=True)  # a dead run's lock file
    return False
