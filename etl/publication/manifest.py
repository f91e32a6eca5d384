"""The run manifest, `runs/<run_id>.json`: the record of one run, written last, one JSON object on one line."""

from __future__ import annotations

import json
import logging
import platform
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from etl import __version__
from etl.core.layout import RUNS, RunSlot, join, manifest_path
from etl.core.log import log_event
from etl.core.storage import Storage
from etl.quality.gate import VolumeHistory

SUCCEEDED = "succeeded"
DEGRADED = "degraded"  # the quality gate failed and the run was published anyway, as asked (allow_degraded)
FAILED = "failed"
STATUSES: tuple[str, ...] = (SUCCEEDED, DEGRADED, FAILED)
PUBLISHED: tuple[str, ...] = (SUCCEEDED, DEGRADED)  # runs whose tables readers see


def utc_iso(moment: datetime | None) -> str | None:
    """`2026-11-22T14:00:03Z`, or None."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_RUN_START = "%Y%m%dT%H%M%SZ"  # the start time inside a run id


def new_run_id(slot: RunSlot, started: datetime) -> str:
    """Sortable and unique: `<slot>-<start time>-<random>`, e.g. 20261122T14-20261122T140312Z-3f9a1c."""
    return f"{slot.start:%Y%m%dT%H}-{started:{_RUN_START}}-{uuid.uuid4().hex[:6]}"


def run_started(run_id: str) -> datetime | None:
    """The start time a run id carries (to the second), or None for an id not of new_run_id's form."""
    try:
        return datetime.strptime(run_id.split("-")[1], _RUN_START).replace(tzinfo=timezone.utc)
    except (IndexError, ValueError):
        return None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions(spark_version: str | None = None) -> dict[str, str | None]:
    """The versions that produced a run."""
    return {
        "etl": __version__,
        "python": platform.python_version(),
        "spark": spark_version,
        "flightradarapi": _version("FlightRadarAPI"),
        "fr24sdk": _version("fr24sdk"),
    }


@dataclass
class Manifest:
    """Collects a run's facts as it goes; `to_dict` is what lands in runs/."""

    run_id: str
    run_slot: RunSlot
    source: str
    started_at: datetime
    config: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    finished_at: datetime | None = None
    capture_time: datetime | None = None
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    cleaning_rules: dict[str, int] = field(default_factory=dict)
    extraction: dict[str, Any] = field(default_factory=dict)
    mapping_coverage: dict[str, float | None] = field(default_factory=dict)  # None: no live flight carries the code
    # The quality gate's verdict: passed, allow_degraded, failed (check names), checks ({name, value, threshold,
    # passed, detail}, every check); empty when the run stopped before the gate.
    quality: dict[str, Any] = field(default_factory=dict)
    reference_sources: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, int] = field(default_factory=dict)  # table -> the Iceberg snapshot holding the slot's rows
    # table -> the run whose rows that snapshot holds for the slot: this run's, or an earlier run's that a backfill
    # of gold only carried forward (silver, quarantine)
    table_runs: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=versions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "run_id": self.run_id,
            "run_slot": str(self.run_slot),
            "status": self.status,
            "source": self.source,
            "started_at": utc_iso(self.started_at),
            "finished_at": utc_iso(self.finished_at),
            "capture_time": utc_iso(self.capture_time),
            "error": self.error,
            "counts": self.counts,
            "cleaning_rules": self.cleaning_rules,
            "extraction": self.extraction,
            "mapping_coverage": self.mapping_coverage,
            "quality": self.quality,
            "reference_sources": self.reference_sources,
            "timings_s": self.timings_s,
            "outputs": self.outputs,
            "snapshots": self.snapshots,
            "table_runs": self.table_runs,
            "versions": self.versions,
            "config": self.config,
        }

    def write(self, storage: Storage, data_root: str) -> str:
        """Write the manifest as one line of JSON (Athena's JSON SerDe reads one object per line)."""
        path = manifest_path(data_root, self.run_id)
        line = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str) + "\n"
        storage.write_bytes(path, line.encode("utf-8"))
        return path


def read_manifests(storage: Storage, data_root: str) -> list[dict[str, Any]]:
    """Every run manifest under runs/, oldest first (run ids sort by slot, then start time).

    A file that is not a manifest (damaged, cut, not JSON) is skipped with a `manifest_unreadable` warning: one bad
    record does not stop the runs and readers that look at the others.
    """
    manifests = []
    for path in storage.list_files(join(data_root, RUNS)):
        if path.endswith(".json"):
            try:
                manifest = json.loads(storage.read_bytes(path))
            except (ValueError, UnicodeDecodeError) as exc:
                log_event("manifest_unreadable", logging.WARNING, path=path, error=str(exc).splitlines()[0])
                continue
            if not isinstance(manifest, dict) or not all(k in manifest for k in ("run_id", "run_slot", "status")):
                log_event("manifest_unreadable", logging.WARNING, path=path, error="not a run manifest")
                continue
            manifests.append(manifest)
    return sorted(manifests, key=lambda m: (m["run_slot"], m.get("started_at") or "", m["run_id"]))


def latest_manifest(
    storage: Storage, data_root: str, slot: RunSlot | None = None, status: str | tuple[str, ...] = SUCCEEDED
) -> dict[str, Any] | None:
    """The newest manifest with this status (or one of these), for a slot or across all slots (latest slot first)."""
    wanted = (status,) if isinstance(status, str) else status
    candidates = [
        m
        for m in read_manifests(storage, data_root)
        if m["status"] in wanted and (slot is None or m["run_slot"] == str(slot))
    ]
    return candidates[-1] if candidates else None


def _live_flights(manifest: dict[str, Any]) -> int | None:
    counts = manifest.get("counts")
    value = counts.get("live_flights") if isinstance(counts, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def volume_history(
    storage: Storage, data_root: str, slot: RunSlot, *, runs: int = 12, before: datetime | None = None
) -> VolumeHistory:
    """What the `volume` check compares a run of `slot` with: the live flights of earlier successful runs.

    `published`: the slot's newest `succeeded` run (by start time); `recent`: the last `runs` succeeded runs of any
    slot, oldest first. Degraded and failed runs are no reference; a manifest without counts.live_flights is skipped.
    With `before` (the run's own start), only runs started before it count: every slot of a backfill is judged
    against the runs that preceded the backfill, not against the slots the backfill itself published first, so its
    verdicts do not depend on how it groups the slots.
    """
    cutoff = utc_iso(before)
    succeeded = sorted(
        (
            m
            for m in read_manifests(storage, data_root)
            if m["status"] == SUCCEEDED
            and _live_flights(m) is not None
            and (cutoff is None or (m.get("started_at") or "") < cutoff)
        ),
        key=lambda m: (m.get("started_at") or "", m["run_id"]),
    )
    same_slot = [m for m in succeeded if m["run_slot"] == str(slot)]
    published = _live_flights(same_slot[-1]) if same_slot else None
    recent = tuple(v for v in (_live_flights(m) for m in (succeeded[-runs:] if runs > 0 else [])) if v is not None)
    return VolumeHistory(published=published, recent=recent)
