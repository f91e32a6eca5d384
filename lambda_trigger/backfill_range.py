"""The slot range of a backfill event: `{"backfill": {"from": "2026-11-01T00", "to": "2026-11-30T22"}}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from lambda_trigger.run_slot import MalformedEventError, slot_text

# A slot as the job's CLI takes it (`2026-11-01T00`), or a time in that hour (`2026-11-01T00:00:00Z`): floored.
# ASCII digits only: `\d` would also take other scripts' digits, which int() reads as numbers.
_SLOT_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?(Z|[+-]00:?00)?$"
)
MAX_DAYS = 366  # one cluster per range: a longer span is most likely a typo (2062 for 2026), not a backfill
OPTIONS = ("from", "to", "from_raw")


class MalformedBackfillError(MalformedEventError):
    """A backfill event whose range cannot be used: no cluster is started."""


@dataclass(frozen=True)
class BackfillRange:
    """The first and last run slots of a backfill (both included), as `YYYY-MM-DDTHH` UTC."""

    first: str
    last: str
    from_raw: bool = False  # re-clean the slots that still have raw

    @property
    def tag(self) -> str:
        """`2026-11-01T00/2026-11-30T22`: the value of the range tag the duplicate guard looks for."""
        return f"{self.first}/{self.last}"


def is_backfill_event(event: Any) -> bool:
    """True for an event asking for a backfill (it carries a `backfill` key)."""
    return isinstance(event, dict) and "backfill" in event


def _slot(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedBackfillError(f"backfill '{key}' must be a string like 2026-11-01T00, got {value!r}")
    match = _SLOT_RE.match(value.strip())
    if not match:
        raise MalformedBackfillError(f"backfill '{key}' {value!r} is not a UTC hour like 2026-11-01T00")
    year, month, day, hour = (int(g) for g in match.groups()[:4])
    try:
        return datetime(year, month, day, hour, tzinfo=timezone.utc)
    except ValueError as exc:
        raise MalformedBackfillError(f"backfill '{key}' {value!r} is not a real date and hour: {exc}") from None


def backfill_range_from_event(event: Any) -> BackfillRange:
    """The range of a backfill event; raise MalformedBackfillError naming what is wrong."""
    body = event.get("backfill") if isinstance(event, dict) else None
    if not isinstance(body, dict):
        raise MalformedBackfillError(
            'backfill must be an object like {"from": "2026-11-01T00", "to": "2026-11-30T22"}, '
            f"got {type(body).__name__}"
        )
    unknown = sorted(set(body) - set(OPTIONS))
    if unknown:
        raise MalformedBackfillError(f"backfill has unknown key(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    missing = [key for key in ("from", "to") if key not in body]
    if missing:
        raise MalformedBackfillError(f"backfill has no {' and no '.join(repr(k) for k in missing)} slot")
    first, last = _slot(body["from"], "from"), _slot(body["to"], "to")
    span = slot_text(first), slot_text(last)
    if first > last:
        raise MalformedBackfillError(f"backfill range is empty: from {span[0]} is after to {span[1]}")
    if last - first > timedelta(days=MAX_DAYS):
        raise MalformedBackfillError(f"backfill range {span[0]} .. {span[1]} spans more than {MAX_DAYS} days: split it")
    from_raw = body.get("from_raw", False)
    if not isinstance(from_raw, bool):
        raise MalformedBackfillError(f"backfill 'from_raw' must be true or false, got {from_raw!r}")
    return BackfillRange(*span, from_raw)
