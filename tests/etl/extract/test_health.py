from __future__ import annotations

from datetime import datetime, timezone

import pytest

from etl.core.config import ExtractSettings
from etl.core.errors import SourceHealthError
from etl.extract.health import check_source_health, measure_freshness
from tests.etl.extract.helpers import flight

SETTINGS = ExtractSettings(max_failed_tile_share=0.5, stale_after_s=1800, max_stale_share=0.5)
T0 = 1_595_000_000  # 2020-07-17T15:33:20Z: an old capture, replayed years later


def test_no_flights_fails():
    with pytest.raises(SourceHealthError, match=r"returned no flights \(72 tile\(s\) requested, 0 failed\)"):
        check_source_health([], {"tiles": 72, "failed_tiles": []}, SETTINGS, source="demo")


def test_too_many_failed_tiles_fails():
    rows = [flight("1", 0, 0, time=T0)]
    stats = {"tiles": 4, "failed_tiles": ["a", "b", "c"]}
    with pytest.raises(SourceHealthError, match=r"3 of 4 tiles failed \(75% > max_failed_tile_share 50%\)"):
        check_source_health(rows, stats, SETTINGS, source="live")


def test_half_the_tiles_failed_is_still_usable():
    rows = [flight("1", 0, 0, time=T0)]
    freshness = check_source_health(rows, {"tiles": 4, "failed_tiles": ["a", "b"]}, SETTINGS, source="demo")
    # 2 of 4 failed is exactly the 50 % ceiling: the capture passes and its newest position dates it.
    assert freshness.capture_time == datetime.fromtimestamp(T0, timezone.utc)
    assert (freshness.rows, freshness.stale_rows, freshness.undated_rows) == (1, 0, 0)


def test_stale_share_is_judged_against_the_newest_position():
    # newest T0; 2 of 3 dated rows older than T0 - 1800 s -> 67% stale
    rows = [flight("1", 0, 0, time=T0), flight("2", 0, 0, time=T0 - 1801), flight("3", 0, 0, time=T0 - 4000)]
    with pytest.raises(
        SourceHealthError,
        match=r"67% of positions are older than 1800s before the capture time "
        r"2020-07-17T15:33:20Z",
    ):
        check_source_health(rows, {}, SETTINGS, source="snapshot")


def test_an_old_capture_replayed_today_is_not_stale():
    rows = [flight("1", 0, 0, time=T0), flight("2", 0, 0, time=T0 - 60), flight("3", 0, 0, time=T0 - 1801)]
    now = datetime(2026, 11, 22, 14, tzinfo=timezone.utc)
    freshness = check_source_health(rows, {}, SETTINGS, source="snapshot", now=now)
    assert freshness.capture_time == datetime(2020, 7, 17, 15, 33, 20, tzinfo=timezone.utc)
    assert freshness.stale_rows == 1
    assert freshness.stale_share == pytest.approx(1 / 3)


def test_live_capture_far_behind_the_clock_is_stale():
    rows = [flight("1", 0, 0, time=T0)]
    now = datetime.fromtimestamp(T0 + 3600, timezone.utc)
    with pytest.raises(SourceHealthError, match=r"newest live position is 3600s old"):
        check_source_health(rows, {"tiles": 1, "failed_tiles": []}, SETTINGS, source="live", now=now)


def test_live_positions_stamped_in_the_future_do_not_set_the_capture_time():
    now = datetime.fromtimestamp(T0, timezone.utc)
    rows = [flight("1", 0, 0, time=T0 - 10), flight("2", 0, 0, time=T0 + 86_400), flight("3", 0, 0, time=T0 - 20)]
    freshness = measure_freshness(rows, 1800, now=now)
    assert freshness.capture_time == datetime.fromtimestamp(T0 - 10, timezone.utc)
    assert (freshness.future_rows, freshness.stale_rows) == (1, 0)


def test_undated_rows_are_counted_apart():
    rows = [flight("1", 0, 0, time=T0), flight("2", 0, 0, time=""), flight("3", 0, 0, time="N/A")]
    freshness = measure_freshness(rows, 1800)
    assert (freshness.undated_rows, freshness.stale_rows, freshness.rows) == (2, 0, 3)


def test_capture_time_from_milliseconds_and_date_time_text():
    # T0 is 2020-07-17T15:33:20Z; the same instant as epoch ms and as text, and a row 10 minutes older.
    for newest, older in (
        (str(T0 * 1000), str((T0 - 600) * 1000)),
        ("2020-07-17 15:33:20", "2020-07-17T15:23:20Z"),
    ):
        rows = [{"id": "1", "time": newest}, {"id": "2", "time": older}, {"id": "3", "time": "soon"}]
        freshness = measure_freshness(rows, 1800)
        assert freshness.capture_time == datetime(2020, 7, 17, 15, 33, 20, tzinfo=timezone.utc)
        assert (freshness.stale_rows, freshness.undated_rows) == (0, 1)
