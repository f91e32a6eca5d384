from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from FlightRadarAPI.core import Core

from etl.cli import main
from etl.core.layout import RunSlot, raw_flights_dir
from etl.extract.simulate.world import World
from etl.extract.sources.simulated import SimulatedFeed
from tests.servers.feed_server import AIRPORTS_PATH, FEED_PATH, serve_feed

FR24_FEED_URL = Core.real_time_flight_tracker_data_url


def _extract(capsys, url: str, lake: Path, slot: RunSlot, config: Path) -> dict:
    argv = ["extract", "--live", "--feed-url", url, "--data-root", str(lake), "--run-slot", str(slot)]
    assert main([*argv, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    return json.loads(out[out.index("{") :])  # the stats, printed after two lines of paths


def _ids(lake: Path, slot: RunSlot) -> set[str]:
    (path,) = Path(raw_flights_dir(str(lake), slot)).glob("*.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"] for row in csv.DictReader(handle)}


def test_two_live_slots_through_a_feed_url_capture_every_flight_the_second_planned_warm(
    tmp_path, local_only, monkeypatch, capsys
):
    # Live runs judge freshness by the wall clock: the first slot's world was captured two hours ago (within the
    # 3-hour staleness limit set below), the second is that world moved on to now.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    first_world = World.generate(6000, seed=31, capture_time=now - timedelta(hours=2))
    second_world = first_world.advance(2.0, seed=2)
    first_slot = RunSlot.from_datetime(first_world.capture_time)
    second_slot = RunSlot(first_slot.start + timedelta(hours=2))
    config = tmp_path / "job.json"
    config.write_text(json.dumps({"extract": {"stale_after_s": 3 * 3600, "max_requests_per_s": 50}}))
    lake = tmp_path / "lake"

    with serve_feed(SimulatedFeed(first_world.flights, cap=1500)) as server:
        # Reference pages on the local server too (the feed address is what --feed-url changes), so nothing
        # leaves 127.0.0.1; the airlines page answers 404 and the run falls back, as documented.
        monkeypatch.setattr(Core, "airports_json_url", server.base_url + AIRPORTS_PATH)
        monkeypatch.setattr(Core, "airlines_data_url", server.base_url + "/data/airlines")
        url = server.base_url + FEED_PATH
        first = _extract(capsys, url, lake, first_slot, config)
        first_queries = len(server.queries)
        server.feed = SimulatedFeed(second_world.flights, cap=1500)
        second = _extract(capsys, url, lake, second_slot, config)

    assert Core.real_time_flight_tracker_data_url == FR24_FEED_URL  # the SDK's global address was never touched
    assert _ids(lake, first_slot) == {f["id"] for f in first_world.flights}
    assert _ids(lake, second_slot) == {f["id"] for f in second_world.flights}
    assert first["plan_source"] == "cold start" and first["failed_tiles"] == []
    assert second["plan_source"] == f"prior slot {first_slot}" and second["failed_tiles"] == []
    assert second["plan_prior_flights"] == 6000
    # every request reached the local server, and the warm plan stays within twice the lower bound
    assert first["requests"] == first_queries and second["requests"] == len(server.queries) - first_queries
    assert second["requests"] <= 2 * math.ceil(len(second_world) / 1500)
    assert first["density_file"] == f"{lake}/raw/flights/_plan/{first_slot.partition_path}/density.json"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--demo", "--feed-url", "http://127.0.0.1:1/zones/fcgi/feed.js"], "feed_url is only used with source 'live'"),
        (["--live", "--feed-url", "ftp://mirror/feed.js"], "is not an http:// or https:// URL"),
    ],
)
def test_a_feed_url_that_cannot_be_used_stops_before_anything_is_written(tmp_path, capsys, argv, message):
    lake = tmp_path / "lake"
    assert main(["extract", *argv, "--data-root", str(lake), "--run-slot", "2026-11-22T14"]) == 2
    assert message in capsys.readouterr().err
    assert not lake.exists()


def test_extract_settings_refuse_bad_politeness_and_plan_values():
    from etl.core.config import ConfigError, ExtractSettings

    for bad, message in [
        ({"max_requests_per_s": -1}, "max_requests_per_s"),
        ({"blocked_backoff_base_s": 70, "blocked_backoff_max_s": 60}, "blocked backoff"),
        ({"plan_fill": 1.5}, "plan_fill"),
        ({"cold_start": "everywhere"}, "cold_start 'everywhere'"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ExtractSettings(**bad).validate()
