"""A publication killed (SIGKILL, in a subprocess) at each of its points, then the next runs of the slot."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from etl.load import recover_publications, run_folders
from etl.storage import LocalStorage
from tests.etl.publishing import KEYS, RUN_A, RUN_B, RUN_C, SLOT, published, staged
from tests.paths import REPO

RUN_D = "20261122T14-20261129T130000Z-dddddd"

# Point of death -> what readers see right after it, per table in KEYS order (B was live, C was publishing).
AFTER_KILL = {
    "after_data": "BBBB",
    "after_journal": "BBBB",
    "after_pointer_1": "CBBB",
    "after_pointer_2": "CCBB",
    "after_pointer_3": "CCCB",
    "after_pointer_4": "CCCC",
    "before_gc": "CCCC",
}


def publish_and_die(root: str, run_id: str, point: str) -> subprocess.CompletedProcess[str]:
    """Publish run_id in a fresh interpreter that kills itself at `point`."""
    command = [sys.executable, "-m", "tests.etl.publish_and_die", root, run_id, point]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("point", sorted(AFTER_KILL))
def test_a_killed_publication_leaves_whole_tables_and_the_next_run_repairs(tmp_path, point) -> None:
    storage, root = LocalStorage(), str(tmp_path)
    staged(storage, root, RUN_A).commit()
    staged(storage, root, RUN_B).commit()

    done = publish_and_die(root, RUN_C, point)

    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert "".join(published(storage, root).values()) == AFTER_KILL[point]
    journal_left = point not in ("after_data", "before_gc")
    assert storage.exists(f"{root}/_publish/pending/{RUN_C}.json") == journal_left

    # The next run starts by completing what the journal decided: C everywhere, or B where C never got that far.
    assert recover_publications(storage, root) == ([RUN_C] if journal_left else [])
    expected = "BBBB" if point == "after_data" else "CCCC"
    assert "".join(published(storage, root).values()) == expected

    # And its own publication replaces the slot as usual.
    staged(storage, root, RUN_D).commit()
    assert published(storage, root) == dict.fromkeys(KEYS, "D")
    # Kept: the version D replaced (B or C), and anything newer than it; older folders are collected.
    kept = {"after_data": [RUN_B, RUN_C, RUN_D]}.get(point, [RUN_C, RUN_D])
    for key in KEYS:
        layer, table = key.split("/", 1)
        assert sorted(run_folders(storage, root, layer, table, SLOT)) == kept, key


def test_two_processes_publishing_one_slot_at_once_end_on_the_later_run(tmp_path) -> None:
    storage, root = LocalStorage(), str(tmp_path)
    staged(storage, root, RUN_A).commit()
    command = [sys.executable, "-m", "tests.etl.publish_and_die", root]
    both = [subprocess.Popen([*command, run, "never"], cwd=REPO) for run in (RUN_C, RUN_B)]
    assert [p.wait(timeout=120) for p in both] == [0, 0]
    assert published(storage, root) == dict.fromkeys(KEYS, "C")
    assert not storage.list_files(f"{root}/_publish/pending")


def test_a_duplicate_trigger_publishes_one_run_whole(tmp_path) -> None:
    # Two runs of the slot started in the same second (a trigger delivered twice, past the Lambda's guard): their
    # ids differ in the random suffix only, which decides; no table ever lists both runs' files.
    storage, root = LocalStorage(), str(tmp_path)
    staged(storage, root, RUN_A).commit()
    twins = ("20261122T14-20261129T140000Z-7e01ac", "20261122T14-20261129T140000Z-7e01ad")
    command = [sys.executable, "-m", "tests.etl.publish_and_die", root]
    both = [subprocess.Popen([*command, run, "never"], cwd=REPO) for run in twins]
    assert [p.wait(timeout=120) for p in both] == [0, 0]
    assert published(storage, root) == dict.fromkeys(KEYS, "D")  # the run ending in ...ad
    assert not storage.list_files(f"{root}/_publish/pending")
