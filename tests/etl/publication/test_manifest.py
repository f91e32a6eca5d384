from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from etl.core.layout import RunSlot
from etl.core.storage import LocalStorage
from etl.publication.manifest import (
    DEGRADED,
    FAILED,
    SUCCEEDED,
    Manifest,
    latest_manifest,
    new_run_id,
    read_manifests,
    volume_history,
)
from etl.quality.gate import VolumeHistory


def _manifest(slot: str, minute: int, status: str) -> Manifest:
    started = datetime(2026, 11, 22, int(slot[-2:]), minute, tzinfo=timezone.utc)
    run_slot = RunSlot.parse(slot)
    m = Manifest(run_id=new_run_id(run_slot, started), run_slot=run_slot, source="demo", started_at=started)
    m.status = status
    return m


def test_manifest_is_one_json_line(tmp_path: Path) -> None:
    m = _manifest("2026-11-22T14", 3, SUCCEEDED)
    m.counts = {"raw": 3, "silver": 2, "quarantine": 1}
    path = m.write(LocalStorage(), str(tmp_path))
    text = Path(path).read_text()
    assert text.count("\n") == 1 and text.endswith("\n")
    record = json.loads(text)
    assert record["run_slot"] == "2026-11-22T14"
    assert record["started_at"] == "2026-11-22T14:03:00Z"
    assert record["counts"] == {"raw": 3, "silver": 2, "quarantine": 1}
    assert path == f"{tmp_path}/runs/{m.run_id}.json"


def test_latest_manifest_prefers_latest_slot_then_latest_success(tmp_path: Path) -> None:
    store, root = LocalStorage(), str(tmp_path)
    a = _manifest("2026-11-22T12", 1, SUCCEEDED)
    b = _manifest("2026-11-22T14", 1, SUCCEEDED)
    c = _manifest("2026-11-22T14", 40, SUCCEEDED)
    d = _manifest("2026-11-22T16", 2, FAILED)
    for m in (d, c, a, b):
        m.write(store, root)
    assert latest_manifest(store, root)["run_id"] == c.run_id
    assert latest_manifest(store, root, RunSlot.parse("2026-11-22T12"))["run_id"] == a.run_id
    assert latest_manifest(store, root, status=FAILED)["run_id"] == d.run_id
    assert latest_manifest(store, root, RunSlot.parse("2026-11-22T18")) is None


def _run(slot: str, started: str, status: str, live: int | None) -> Manifest:
    """A manifest of `slot` started at `started` (`DDTHH:MM` of November 2026) with these live flights."""
    moment = datetime.strptime(f"2026-11-{started}", "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
    run_slot = RunSlot.parse(slot)
    m = Manifest(run_id=new_run_id(run_slot, moment), run_slot=run_slot, source="demo", started_at=moment)
    m.status = status
    m.counts = {} if live is None else {"live_flights": live}
    return m


def test_volume_history_reads_the_slot_s_published_run_and_the_recent_successful_runs(tmp_path: Path) -> None:
    store, root = LocalStorage(), str(tmp_path)
    runs = [
        _run("2026-11-22T10", "22T10:01", SUCCEEDED, 900),
        _run("2026-11-22T12", "22T12:01", SUCCEEDED, 1000),
        _run("2026-11-22T14", "22T14:01", SUCCEEDED, 1500),  # the slot's first run
        _run("2026-11-22T14", "22T18:30", SUCCEEDED, 1400),  # re-run later: the slot's published run now
        _run("2026-11-22T14", "22T19:00", FAILED, 1),  # failed: no reference
        _run("2026-11-22T14", "22T19:10", DEGRADED, 2),  # degraded: no reference
        _run("2026-11-20T02", "22T16:05", SUCCEEDED, 1100),  # an old slot run recently: recent by start time
        _run("2026-11-22T16", "22T16:01", SUCCEEDED, None),  # no live flights recorded: skipped
    ]
    for m in runs:
        m.write(store, root)

    history = volume_history(store, root, RunSlot.parse("2026-11-22T14"), runs=3)
    assert history == VolumeHistory(published=1400, recent=(1500, 1100, 1400))

    assert volume_history(store, root, RunSlot.parse("2026-11-22T20")) == VolumeHistory(
        published=None, recent=(900, 1000, 1500, 1100, 1400)
    )
    assert volume_history(store, str(tmp_path / "empty"), RunSlot.parse("2026-11-22T14")) == VolumeHistory()
    # A run started at 16:00 (or a backfill, whose slots all carry its start) sees only the runs before it.
    before = datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)
    assert volume_history(store, root, RunSlot.parse("2026-11-22T14"), before=before) == VolumeHistory(
        published=1500, recent=(900, 1000, 1500)
    )


def test_a_damaged_manifest_is_skipped_not_fatal(tmp_path: Path) -> None:
    store, root = LocalStorage(), str(tmp_path)
    _run("2026-11-22T12", "22T12:01", SUCCEEDED, 1000).write(store, root)
    (tmp_path / "runs" / "20261122T14-cut.json").write_text('{"run_id": "20261122T14-cut", "run_sl')
    (tmp_path / "runs" / "20261122T16-list.json").write_text("[1, 2]")

    assert [m["run_slot"] for m in read_manifests(store, root)] == ["2026-11-22T12"]
    assert volume_history(store, root, RunSlot.parse("2026-11-22T14")).recent == (1000,)
