"""The run slot of an EventBridge event: its scheduled `time`, floored to the hour, UTC."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

# EventBridge sends `2026-11-22T14:00:00Z`; a hand-made event may add seconds' fractions or a +00:00 offset.
# ASCII digits only: `\d` would also take other scripts' digits (Devanagari, Arabic-Indic ...), which int() reads.
_TIME_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"(?:(Z)|([+-])([0-9]{2}):?([0-9]{2}))?$"
)
MAX_OFFSET_HOURS = 23  # ISO 8601 offsets are below a day: hours 00-23, minutes 00-59


class MalformedEventError(ValueError):
    """The event carries no usable scheduled time, so no run slot and no cluster."""


def run_slot_from_event(event: Any) -> str:
    """`YYYY-MM-DDTHH` of the event's `time` in UTC; raise MalformedEventError on anything else."""
    if not isinstance(event, dict):
        raise MalformedEventError(f"event must be a JSON object with a 'time' field, got {type(event).__name__}")
    if "time" not in event:
        raise MalformedEventError("event has no 'time' field (expected the EventBridge scheduled time)")
    text = event["time"]
    if not isinstance(text, str):
        raise MalformedEventError(f"event 'time' must be a string like 2026-11-22T14:00:00Z, got {text!r}")
    match = _TIME_RE.match(text.strip())
    if not match:
        raise MalformedEventError(f"event 'time' {text!r} is not an ISO 8601 time like 2026-11-22T14:00:00Z")
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    second = int(match.group(6) or 0)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError as exc:
        raise MalformedEventError(f"event 'time' {text!r} is not a real time: {exc}") from None
    if match.group(8):  # an explicit offset: bring the moment back to UTC
        hours, minutes = int(match.group(9)), int(match.group(10))
        if hours > MAX_OFFSET_HOURS or minutes > 59:
            raise MalformedEventError(
                f"event 'time' {text!r} has offset {match.group(8)}{match.group(9)}:{match.group(10)}, "
                "not a UTC offset (hours 00-23, minutes 00-59)"
            )
        offset = timedelta(hours=hours, minutes=minutes)
        try:
            moment = moment - offset if match.group(8) == "+" else moment + offset
        except OverflowError:
            raise MalformedEventError(
                f"event 'time' {text!r} is out of range: in UTC it falls outside years 1-9999"
            ) from None
    return slot_text(moment)


def slot_text(moment: datetime) -> str:
    """`YYYY-MM-DDTHH`, the year on four digits (strftime's %Y drops the zeros of years below 1000 on glibc)."""
    return f"{moment.year:04d}-{moment:%m-%dT%H}"
