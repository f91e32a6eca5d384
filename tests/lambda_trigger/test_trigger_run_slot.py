"""The run slot comes from the event's scheduled time, floored to the hour in UTC; anything else is refused."""

from __future__ import annotations

import pytest

from lambda_trigger.run_slot import MalformedEventError, run_slot_from_event


@pytest.mark.parametrize(
    ("time", "slot"),
    [
        ("2026-11-22T14:00:00Z", "2026-11-22T14"),  # EventBridge's own form
        ("2026-11-22T14:59:59Z", "2026-11-22T14"),  # floored, not rounded
        ("2026-11-22T14:07:31.250Z", "2026-11-22T14"),
        ("2026-11-23T00:30:00+01:00", "2026-11-22T23"),  # an offset goes back to UTC, across midnight
        ("2026-12-31T23:15:00-02:00", "2027-01-01T01"),  # ... and across a year
        ("2026-11-22T14:00", "2026-11-22T14"),  # no zone: taken as UTC
    ],
)
def test_scheduled_time_floors_to_the_utc_hour(time: str, slot: str) -> None:
    assert run_slot_from_event({"time": time, "detail-type": "Scheduled Event"}) == slot


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("2026-11-22T14:00:00Z", "event must be a JSON object with a 'time' field, got str"),
        ({"detail": {}}, "event has no 'time' field (expected the EventBridge scheduled time)"),
        ({"time": 1763820000}, "event 'time' must be a string like 2026-11-22T14:00:00Z, got 1763820000"),
        ({"time": "yesterday"}, "event 'time' 'yesterday' is not an ISO 8601 time like 2026-11-22T14:00:00Z"),
        (
            {"time": "2026-02-30T14:00:00Z"},
            "event 'time' '2026-02-30T14:00:00Z' is not a real time: day is out of range",
        ),
    ],
)
def test_malformed_event_is_refused_with_a_clear_message(event: object, message: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        run_slot_from_event(event)
    assert str(caught.value).startswith(message)
