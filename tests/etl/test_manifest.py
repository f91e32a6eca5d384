from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from etl.layout import RunSlot
from etl.manifest import FAILED, SUCCEEDED, Manifest, latest_manifest, new_run_id
from etl.storage import LocalStorage


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
