"""The job's own publication under a storage error between two tables, and the next run that repairs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl import pipeline
from etl.columns import GOLD_TABLES
from etl.config import JobConfig
from etl.layout import RunSlot
from etl.load import PublicationError
from etl.storage import LocalStorage
from etl.tables import current_files, run_of

pytestmark = pytest.mark.slow

SLOT = RunSlot.parse("2026-11-22T14")
LATER = RunSlot.parse("2026-11-22T16")
KEYS = ["silver/flights", "quarantine/flights", *(f"gold/{t}" for t in GOLD_TABLES)]


class FailingThirdPointer(LocalStorage):
    """Local storage whose third pointer switch fails, as an S3 PUT answering 500 would."""

    def __init__(self) -> None:
        self.pointers = 0

    def write_if(self, path: str, data: bytes, tag: str | None) -> bool:
        if path.endswith("/symlink.txt"):
            self.pointers += 1
            if self.pointers == 3:
                raise OSError("InternalError: We encountered an internal error. Please try again.")
        return super().write_if(path, data, tag)


def _config(root: Path, slot: RunSlot, seed: int) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, source="demo", demo_flights=500, demo_seed=seed).validate()


def _runs(root: Path, slot: RunSlot) -> list[str | None]:
    storage = LocalStorage()
    return [run_of(current_files(storage, str(root), *key.split("/", 1), slot) or []) for key in KEYS]


def test_a_failed_publication_is_completed_by_the_next_run(spark, tmp_path) -> None:
    good = pipeline.run(_config(tmp_path, SLOT, seed=1), spark=spark)

    with pytest.raises(PublicationError, match=r"stopped after 2 of 10 tables at gold/airline_most_live_flights"):
        pipeline.run(_config(tmp_path, SLOT, seed=2), storage=FailingThirdPointer(), spark=spark)
    manifests = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    (failed,) = [m for m in manifests if m["status"] == "failed"]
    assert failed["error"].startswith("PublicationError: publication of run ")
    # Silver and quarantine are the failed run's, every gold table still the good run's: whole tables only.
    assert _runs(tmp_path, SLOT) == [failed["run_id"]] * 2 + [good["run_id"]] * 8

    later = pipeline.run(_config(tmp_path, LATER, seed=3), spark=spark)  # another slot: it repairs SLOT first

    assert later["status"] == "succeeded"
    assert _runs(tmp_path, SLOT) == [failed["run_id"]] * 10
    assert _runs(tmp_path, LATER) == [later["run_id"]] * 10
    assert not list((tmp_path / "_publish" / "pending").glob("*.json"))
