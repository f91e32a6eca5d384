"""Run one publication of the test lake's slot and SIGKILL this very process at a chosen point of it.

python -m tests.etl.publish_and_die <data root> <run id> <point>, where point is after_data (before the journal),
after_journal, after_pointer_<k>, before_gc (journal done, old versions not collected yet), or never. Used by
test_killed_publication.py; a process killed by SIGKILL runs no cleanup, no `finally`, no atexit.
"""

from __future__ import annotations

import os
import signal
import sys

from etl.storage import LocalStorage
from tests.etl.publishing import staged


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DyingStorage(LocalStorage):
    """Local storage that kills the process at `point`."""

    def __init__(self, point: str) -> None:
        self.point, self.switched = point, 0

    def write_bytes(self, path: str, data: bytes) -> None:
        journal = "/_publish/pending/" in path
        if journal and self.point == "after_data":
            _die()
        super().write_bytes(path, data)
        if journal and self.point == "after_journal":
            _die()

    def write_if(self, path: str, data: bytes, tag: str | None) -> bool:
        done = super().write_if(path, data, tag)
        self.switched += done
        if self.point == f"after_pointer_{self.switched}":
            _die()
        return done

    def delete_tree(self, prefix: str) -> None:
        super().delete_tree(prefix)
        if "/_publish/pending/" in prefix and self.point == "before_gc":
            _die()


def main(root: str, run_id: str, point: str) -> None:
    storage = DyingStorage(point)
    publication = staged(storage, root, run_id)
    publication.commit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
