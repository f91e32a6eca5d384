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


# Other scripts' digits, which int() would read: Devanagari and full-width.
DEVANAGARI = str.maketrans("0123456789", "".join(chr(0x0966 + d) for d in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.mark.parametrize(
    ("time", "reason"),
    [
        ("2026-11-22T14:00+25:99", "has offset +25:99, not a UTC offset (hours 00-23, minutes 00-59)"),
        ("2026-11-22T14:00-24:00", "has offset -24:00, not a UTC offset (hours 00-23, minutes 00-59)"),
        ("2026-11-22T14:00:00Z".translate(DEVANAGARI), "is not an ISO 8601 time like 2026-11-22T14:00:00Z"),
        ("2026-11-22T14:00:00Z".translate(FULL_WIDTH), "is not an ISO 8601 time like 2026-11-22T14:00:00Z"),
        ("0001-01-01T00:00+01:00", "is out of range: in UTC it falls outside years 1-9999"),
        ("9999-12-31T23:30-01:00", "is out of range: in UTC it falls outside years 1-9999"),
    ],
)
def test_bad_offset_foreign_digits_and_out_of_range_times_are_refused(time: str, reason: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        run_slot_from_event({"time": time})
    assert str(caught.value) == f"event 'time' {time!r} {reason}"


def test_the_extreme_offsets_still_floor_to_the_utc_hour() -> None:
    assert run_slot_from_event({"time": "2026-11-22T14:00+23:59"}) == "2026-11-21T14"
    assert run_slot_from_event({"time": "0001-01-01T01:00+01:00"}) == "0001-01-01T00"  # the year keeps 4 digits
