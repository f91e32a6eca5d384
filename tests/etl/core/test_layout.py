from __future__ import annotations

from datetime import datetime, timezone

import pytest

from etl.core import layout
from etl.core.layout import RunSlot, RunSlotError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T14", datetime(2026, 11, 22, 14, tzinfo=timezone.utc)),
        ("2026-11-22T14:59:59Z", datetime(2026, 11, 22, 14, tzinfo=timezone.utc)),
        ("2026-01-02T04:00:00+00:00", datetime(2026, 1, 2, 4, tzinfo=timezone.utc)),
        ("2026-01-02T04:07", datetime(2026, 1, 2, 4, tzinfo=timezone.utc)),
        ("2026-11-22T14:00:00Z", datetime(2026, 11, 22, 14, tzinfo=timezone.utc)),  # as EventBridge sends it
    ],
)
def test_run_slot_is_floored_to_the_hour(text: str, expected: datetime) -> None:
    assert RunSlot.parse(text).start == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "2026-11-22",
        "2026-13-01T00",
        "2026-11-22T24",
        "22/11/2026 14h",
        "2026-11-22T14+02:00",
        "2026-11-22T14+25:99",
        "\u0968\u0966\u0968\u096c-\u0967\u0967-\u0968\u0968T\u0967\u096a",  # 2026-11-22T14 in Devanagari digits
        "2026-11-22T14\n",
        "0001-01-01T00",
        "2100-01-01T00",
    ],
)
def test_bad_run_slot_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(RunSlotError, match=r"YYYY-MM-DDTHH|not a real date"):
        RunSlot.parse(text)


def test_a_slot_that_is_not_text_is_refused() -> None:
    with pytest.raises(RunSlotError, match="YYYY-MM-DDTHH"):
        RunSlot.parse(2026112214)  # type: ignore[arg-type]


def test_partition_values_are_zero_padded() -> None:
    slot = RunSlot.parse("2026-01-05T04")
    assert slot.partition_values == {
        "tech_year": "2026",
        "tech_month": "2026-01",
        "tech_day": "2026-01-05",
        "tech_hour": "04",
    }
    assert slot.partition_path == "tech_year=2026/tech_month=2026-01/tech_day=2026-01-05/tech_hour=04"


def test_from_datetime_converts_to_utc() -> None:
    from datetime import timedelta

    paris = timezone(timedelta(hours=1))
    assert str(RunSlot.from_datetime(datetime(2026, 11, 22, 15, 30, tzinfo=paris))) == "2026-11-22T14"


def test_raw_file_follows_the_nomenclature() -> None:
    slot = RunSlot.parse("2026-11-22T14")
    assert layout.raw_flights_file("s3://bucket/", slot, "20261122T14-20261122T140003Z-3f9a1c") == (
        "s3://bucket/raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/"
        "20261122T14-20261122T140003Z-3f9a1c.csv"
    )
