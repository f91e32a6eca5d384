"""A real local run of the job for the analytics tests: two slots of one day on the simulated world, once a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from etl.config import JobConfig
from etl.layout import RunSlot

SLOTS = (RunSlot.parse("2026-11-22T14"), RunSlot.parse("2026-11-22T16"))


@dataclass(frozen=True)
class Lake:
    """A data root holding the job's output for SLOTS, and the manifests the runs returned."""

    root: str
    slots: tuple[RunSlot, ...]
    manifests: tuple[dict[str, Any], ...]


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory, spark) -> Lake:
    """Run `etl.pipeline.run` for each slot into a temporary data root (small simulated world)."""
    from etl.pipeline import run

    root = str(tmp_path_factory.mktemp("lake"))
    manifests = tuple(
        run(JobConfig(data_root=root, run_slot=slot, source="demo", demo_flights=3000), spark=spark) for slot in SLOTS
    )
    assert all(m["status"] == "succeeded" for m in manifests)
    return Lake(root, SLOTS, manifests)
