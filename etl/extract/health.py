"""The source-health gate: an unusable capture stops the run before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from etl.core.config import ExtractSettings
from etl.core.errors import SourceHealthError
from etl.core.source_registry import is_remote

FUTURE_SKEW_S = 300  # live positions stamped further ahead of the clock than this are not trusted as the capture time


@dataclass(frozen=True)
class Freshness:
    """When the capture was taken (by its newest position) and how much of it is stale."""

    capture_time: datetime | None  # None when no row has a usable `time`
    stale_rows: int  # positions older than stale_after_s before capture_time
    undated_rows: int  # rows whose `time` is missing or not a number
    future_rows: int  # live only: positions stamped ahead of the clock, left out of capture_time
    rows: int

    @property
    def stale_share(self) -> float:
        """Stale rows over dated rows (0 when nothing is dated)."""
        dated = self.rows - self.undated_rows
        return self.stale_rows / dated if dated else 0.0


_MAX_EPOCH_S = 4_102_444_800  # 2100-01-01T00:00:00Z


def _epoch(text: str) -> float | None:
    """Epoch seconds of a position time, read as clean reads it: epoch s, epoch ms past 2100 in s, or ISO-8601."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(text.strip())
        except (TypeError, ValueError, AttributeError):
            return None
        value = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    if value >= _MAX_EPOCH_S:
        value /= 1000  # milliseconds
    return value if 0 < value < _MAX_EPOCH_S else None


def measure_freshness(rows: list[dict[str, str]], stale_after_s: float, *, now: datetime | None = None) -> Freshness:
    """Capture time = the newest position in the data; stale = older than stale_after_s before it.

    Judged by the data, not the wall clock, so replaying an old capture is not stale. With `now` (live runs),
    positions stamped more than FUTURE_SKEW_S ahead of it are ignored when picking the capture time.
    """
    times = [_epoch(r.get("time", "")) for r in rows]
    dated = [t for t in times if t is not None]
    limit = now.timestamp() + FUTURE_SKEW_S if now is not None else None
    trusted = [t for t in dated if limit is None or t <= limit]
    if not trusted:
        return Freshness(None, 0, len(rows) - len(dated), len(dated) - len(trusted), len(rows))
    newest = max(trusted)
    stale = sum(1 for t in dated if t < newest - stale_after_s)
    return Freshness(
        datetime.fromtimestamp(newest, timezone.utc),
        stale,
        len(rows) - len(dated),
        len(dated) - len(trusted),
        len(rows),
    )


def check_source_health(
    rows: list[dict[str, str]],
    stats: dict[str, Any],
    settings: ExtractSettings,
    *,
    source: str,
    now: datetime | None = None,
) -> Freshness:
    """Raise SourceHealthError when the capture has no flights, too many failed tiles or too much stale data.

    `stats` gives tiles and failed_tiles (absent for snapshots). For `live`, `now` is the wall clock and the
    capture itself must also be recent: its newest position no older than stale_after_s before `now`.
    """
    tiles = int(stats.get("tiles", 0) or 0)
    failed = len(stats.get("failed_tiles", []) or [])
    share = failed / tiles if tiles else 0.0
    if share > settings.max_failed_tile_share:
        raise SourceHealthError(
            f"source health: {failed} of {tiles} tiles failed ({share:.0%} > max_failed_tile_share "
            f"{settings.max_failed_tile_share:.0%}); nothing written"
        )
    if not rows:
        where = f" ({tiles} tile(s) requested, {failed} failed)" if tiles else ""
        raise SourceHealthError(f"source health: the {source} source returned no flights{where}; nothing written")
    live = is_remote(source)  # read live from the air: the capture must also be recent by the wall clock
    freshness = measure_freshness(rows, settings.stale_after_s, now=now if live else None)
    if freshness.stale_share > settings.max_stale_share:
        raise SourceHealthError(
            f"source health: {freshness.stale_share:.0%} of positions are older than {settings.stale_after_s}s before "
            f"the capture time {freshness.capture_time:%Y-%m-%dT%H:%M:%SZ} (> max_stale_share "
            f"{settings.max_stale_share:.0%}); nothing written"
        )
    if live and now is not None and freshness.capture_time is not None:
        lag = (now - freshness.capture_time).total_seconds()
        if lag > settings.stale_after_s:
            raise SourceHealthError(
                f"source health: the newest live position is {lag:.0f}s old (> stale_after_s "
                f"{settings.stale_after_s}s): the feed is stale; nothing written"
            )
    return freshness
