from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.core.columns import RAW_COLUMNS
from etl.core.config import ExtractSettings, JobConfig
from etl.core.errors import SnapshotFormatError, SourceHealthError
from etl.core.layout import RunSlot
from etl.core.storage import LocalStorage
from etl.extract import RawLanding, extract_to_raw
from etl.extract.feed import TransientFeedError
from etl.extract.sources.simulated import SimulatedFeed
from tests.etl.extract.helpers import flight

NOW = datetime(2026, 11, 22, 14, 5, 0, tzinfo=timezone.utc)
RUN = "20261122T14-20261122T140500Z-aaaaaa"  # the run whose capture lands
T_NOW = int(NOW.timestamp())
SLOT = RunSlot.parse("2026-11-22T14")
# The 30-degree grid as the cold start keeps the tile facts below hand-countable (72 tiles); no request ceiling,
# since 'live' tests here talk to an in-process feed.
QUICK = ExtractSettings(backoff_base_s=0.0, backoff_max_s=0.0, retries=1, cold_start="grid", max_requests_per_s=0)


def _config(root: Path, slot: RunSlot = SLOT, **kwargs) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=slot, extract=QUICK, **kwargs).validate()


def _read(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class FixedFeed(SimulatedFeed):
    """A simulated feed with airlines of its own and airports that fail, like an unreachable FR24 page."""

    def fetch_airports(self):
        raise TransientFeedError("airports page unreachable")

    def fetch_airlines(self):
        return [{"icao": "BAW", "iata": "BA", "name": "British Airways"}]


def test_raw_file_path_header_and_values(tmp_path):
    feed = SimulatedFeed([flight("a1", 51.47, -0.45, time=T_NOW - 5, callsign="BAW1"), flight("a2", 1, 1)])
    landing = extract_to_raw(_config(tmp_path), LocalStorage(), feed=feed, now=NOW, run_id=RUN)
    assert isinstance(landing, RawLanding)
    expected = f"{tmp_path}/raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/{RUN}.csv"
    assert landing.raw_flights_path == expected
    text = Path(expected).read_bytes().decode("utf-8")
    assert text.split("\n")[0] == ",".join(RAW_COLUMNS) and "\r" not in text
    rows = _read(expected)
    assert [r["id"] for r in rows] == ["a2", "a1"]  # in tile order: south edge first
    assert rows[1]["latitude"] == "51.47" and rows[1]["callsign"] == "BAW1" and rows[1]["squawk"] == ""
    assert rows[1]["tile"] == "30,60,-30,0"
    assert rows[1]["requested_at"] == "2026-11-22T14:05:00Z"
    assert landing.rows == 2
    assert landing.capture_time == datetime.fromtimestamp(T_NOW - 5, timezone.utc)  # the newest position: a1's
    # the partition's one raw file, no staging left behind; the density the next capture plans from under _plan
    assert sorted(p.name for p in (tmp_path / "raw/flights").iterdir()) == ["_plan", "tech_year=2026"]
    assert [p.name for p in Path(expected).parent.iterdir()] == [f"{RUN}.csv"]
    density = tmp_path / "raw/flights/_plan/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14"
    assert landing.stats.density_file == f"{density}/density.json"
    # 0.5-degree cells: a1 at (51.47, -0.45) is row (51.47 + 90) // 0.5 = 282, col (180 - 0.45) // 0.5 = 359;
    # a2 at (1, 1) is row 182, col 362
    assert json.loads((density / "density.json").read_text())["cells"] == [[182, 362, 1.0], [282, 359, 1.0]]


def test_stats_for_the_manifest(tmp_path):
    feed = SimulatedFeed([flight("a1", 0.0, 0.0), flight("a2", 10, 10)])
    stats = extract_to_raw(_config(tmp_path), LocalStorage(), feed=feed, now=NOW).stats.to_dict()
    assert stats["source"] == "demo"
    assert stats["tiles"] == 72 and stats["requests"] == 72 and stats["failed_tiles"] == []
    assert stats["plan_source"] == "cold start (grid)" and stats["tiles_planned"] == 72
    # (0, 0) is a corner of four 30-degree start tiles
    assert stats["flights_received"] == 5 and stats["duplicates_removed"] == 3 and stats["rows"] == 2
    assert stats["capture_time"] == "2026-11-22T14:00:00Z" and stats["capture_lag_s"] == 300
    assert stats["airports"]["source"] == "airportsdata" and stats["airlines"]["source"] == "simulator"


def test_a_rerun_lands_beside_the_earlier_capture_and_leaves_other_slots_alone(tmp_path):
    other = RunSlot.parse("2026-11-22T12")
    first = extract_to_raw(_config(tmp_path), LocalStorage(), feed=SimulatedFeed([flight("old", 1, 1)]), now=NOW)
    kept = extract_to_raw(_config(tmp_path, other), LocalStorage(), feed=SimulatedFeed([flight("x", 2, 2)]), now=NOW)
    kept_bytes = Path(kept.raw_flights_path).read_bytes()
    feed = SimulatedFeed([flight("new1", 1, 1), flight("new2", 3, 3)])
    again = extract_to_raw(_config(tmp_path), LocalStorage(), feed=feed, now=NOW)
    assert again.raw_flights_path != first.raw_flights_path
    assert Path(again.raw_flights_path).parent == Path(first.raw_flights_path).parent  # the same slot
    assert [r["id"] for r in _read(again.raw_flights_path)] == ["new1", "new2"]
    assert [r["id"] for r in _read(first.raw_flights_path)] == ["old"]  # never overwritten
    assert Path(kept.raw_flights_path).read_bytes() == kept_bytes


def test_a_failing_run_leaves_the_previous_raw_file_as_it_was(tmp_path):
    good = extract_to_raw(_config(tmp_path), LocalStorage(), feed=SimulatedFeed([flight("g", 1, 1)]), now=NOW)
    before = Path(good.raw_flights_path).read_bytes()
    with pytest.raises(SourceHealthError, match="returned no flights"):
        extract_to_raw(_config(tmp_path), LocalStorage(), feed=SimulatedFeed([]), now=NOW)
    everything_fails = SimulatedFeed([flight("g", 1, 1)], failure_rate=1.0)
    with pytest.raises(SourceHealthError, match="72 of 72 tiles failed"):
        extract_to_raw(_config(tmp_path), LocalStorage(), feed=everything_fails, now=NOW)
    assert Path(good.raw_flights_path).read_bytes() == before


def test_a_failed_first_run_writes_nothing(tmp_path):
    with pytest.raises(SourceHealthError):
        extract_to_raw(_config(tmp_path), LocalStorage(), feed=SimulatedFeed([]), now=NOW)
    assert not (tmp_path / "raw").exists()


def test_snapshot_run_keeps_an_old_capture_and_reads_its_time_from_the_data(tmp_path):
    path = tmp_path / "flights_20250719_084941.csv"
    path.write_text("id,latitude,longitude,time\n3a,45.808,8.7723,1752914978\n3b,10,20,1752914900\n3a,45.9,8.8,1\n")
    config = _config(tmp_path / "lake", source="snapshot", snapshot_path=str(path))
    landing = extract_to_raw(config, LocalStorage(), now=NOW)
    rows = _read(landing.raw_flights_path)
    assert [(r["id"], r["latitude"]) for r in rows] == [("3a", "45.808"), ("3b", "10")]
    assert {(r["tile"], r["requested_at"]) for r in rows} == {("", "2025-07-19T08:49:41Z")}
    assert landing.capture_time == datetime(2025, 7, 19, 8, 49, 38, tzinfo=timezone.utc)
    assert landing.stats.duplicates_removed == 1 and landing.stats.snapshot_format == "csv"
    assert landing.stats.airlines == {"source": "none", "rows": 0}
    assert _read(landing.airlines_path) == []


def test_bad_snapshot_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("lat,lon\n1,2\n")
    config = _config(tmp_path / "lake", source="snapshot", snapshot_path=str(path))
    with pytest.raises(SnapshotFormatError, match="missing required column"):
        extract_to_raw(config, LocalStorage(), now=NOW)
    assert not (tmp_path / "lake").exists()


def test_reference_snapshots_are_written_once_a_day_with_fallbacks(tmp_path):
    feed = FixedFeed([flight("a1", 1, 1)])
    config = _config(tmp_path, source="live")
    first = extract_to_raw(config, LocalStorage(), feed=feed, now=NOW)
    assert first.airports_path == f"{tmp_path}/raw/reference/airports/tech_day=2026-11-22/airports.csv"
    assert first.airlines_path == f"{tmp_path}/raw/reference/airlines/tech_day=2026-11-22/airlines.csv"
    airports_text = Path(first.airports_path).read_text(encoding="utf-8")
    assert airports_text.splitlines()[0] == "iata,icao,name,country,latitude,longitude,altitude,source"
    jfk = next(r for r in _read(first.airports_path) if r["iata"] == "JFK")
    assert (jfk["icao"], jfk["country"], jfk["source"]) == ("KJFK", "US", "airportsdata")
    assert _read(first.airlines_path) == [{"icao": "BAW", "iata": "BA", "name": "British Airways", "source": "fr24"}]
    assert first.stats.airports["source"] == "airportsdata"
    assert "fr24" in first.stats.airports["errors"]
    later = extract_to_raw(
        _config(tmp_path, RunSlot.parse("2026-11-22T16"), source="live"), LocalStorage(), feed=feed, now=NOW
    )
    assert later.stats.airports["source"] == "reused:airportsdata"
    assert later.stats.airlines["source"] == "reused:fr24"


class ListingFeed(SimulatedFeed):
    """A simulated feed whose FR24 airports list holds two airports, one under FR24's own code for a glider field."""

    def fetch_airports(self):
        return [
            {"iata": "JFK", "icao": "KJFK", "name": "New York JFK (FR24)", "country": "United States"},
            {"iata": "QPP", "icao": "", "name": "Example Gliding Field", "country": "Germany"},
        ]


def test_the_fr24_airports_list_is_completed_by_airportsdata(tmp_path):
    feed = ListingFeed([flight("a1", 1, 1)])
    landing = extract_to_raw(_config(tmp_path, source="live"), LocalStorage(), feed=feed, now=NOW)

    rows = {r["iata"]: r for r in _read(landing.airports_path)}
    assert (rows["QPP"]["name"], rows["QPP"]["country"], rows["QPP"]["source"]) == (
        "Example Gliding Field",
        "Germany",
        "fr24",
    )
    assert (rows["JFK"]["name"], rows["JFK"]["source"]) == ("New York JFK (FR24)", "fr24")  # FR24's row wins
    assert (rows["CDG"]["icao"], rows["CDG"]["country"], rows["CDG"]["source"]) == ("LFPG", "FR", "airportsdata")
    assert landing.stats.airports["source"] == "fr24"


def test_demo_source_runs_the_simulated_world(tmp_path):
    config = _config(tmp_path, demo_flights=3000, demo_seed=4)
    landing = extract_to_raw(config, LocalStorage(), now=NOW)
    assert landing.rows == 3000 and landing.stats.failed_tiles == []
    assert landing.capture_time == NOW
    rows = list(csv.DictReader(io.StringIO(Path(landing.raw_flights_path).read_text(encoding="utf-8"))))
    assert len({r["id"] for r in rows}) == 3000


def test_landing_on_s3_replaces_the_slot_and_leaves_no_staging(monkeypatch):
    import boto3
    from moto import mock_aws

    from etl.core.storage import S3Storage

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        storage = S3Storage(client)
        config = JobConfig(data_root="s3://lake/data", run_slot=SLOT, extract=QUICK).validate()
        first = extract_to_raw(config, storage, feed=SimulatedFeed([flight("s1", 1, 1)]), now=NOW, run_id="r1")
        landing = extract_to_raw(config, storage, feed=SimulatedFeed([flight("s2", 2, 2)]), now=NOW, run_id="r2")
        assert landing.raw_flights_path == (
            "s3://lake/data/raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/r2.csv"
        )
        # The first capture is kept: each run lands under its own name, never over another's.
        first_body = storage.read_bytes(first.raw_flights_path).decode("utf-8")
        assert [r["id"] for r in csv.DictReader(io.StringIO(first_body))] == ["s1"]
        body = storage.read_bytes(landing.raw_flights_path).decode("utf-8")
        assert [r["id"] for r in csv.DictReader(io.StringIO(body))] == ["s2"]
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="lake")["Contents"])
        assert keys == [
            "data/raw/flights/_plan/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/density.json",
            "data/raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/r1.csv",
            "data/raw/flights/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/r2.csv",
            "data/raw/reference/airlines/tech_day=2026-11-22/airlines.csv",
            "data/raw/reference/airports/tech_day=2026-11-22/airports.csv",
        ]


def test_the_next_slot_plans_from_the_previous_capture_and_a_snapshot_unplans_it(tmp_path):
    earlier = RunSlot.parse("2026-11-22T12")
    first = extract_to_raw(
        _config(tmp_path, earlier), LocalStorage(), feed=SimulatedFeed([flight("p1", 1, 1)]), now=NOW
    )
    assert first.stats.plan_source == "cold start (grid)" and first.stats.requests == 72
    feed = SimulatedFeed([flight("p1", 1, 2), flight("p2", 40, 2)])
    second = extract_to_raw(_config(tmp_path), LocalStorage(), feed=feed, now=NOW)
    # One flight in the prior is far below 80 % of the cap: the plan is the whole world in one request.
    assert second.stats.plan_source == "prior slot 2026-11-22T12"
    assert second.stats.tiles_planned == 1 and second.stats.requests == 1
    assert second.stats.plan_prior_flights == 1
    assert [r["tile"] for r in _read(second.raw_flights_path)] == ["-90,90,-180,180"] * 2
    # A replayed snapshot in the earlier slot removes that slot's density: the next run plans cold again.
    path = tmp_path / "capture.csv"
    path.write_text(f"id,latitude,longitude,time\ns1,10,10,{T_NOW}\n")
    snap = extract_to_raw(
        _config(tmp_path, earlier, source="snapshot", snapshot_path=str(path)), LocalStorage(), now=NOW
    )
    assert snap.stats.density_file == ""
    again = extract_to_raw(_config(tmp_path), LocalStorage(), feed=feed, now=NOW)
    assert again.stats.plan_source == "cold start (grid)"


# The manifest's `extraction` keys, in the order `etl extract` prints them, as the job wrote them before the
# statistics became a dataclass: every kind of source, then what only a tiled feed or only a snapshot records.
EVERY_RUN_HEAD = ["source", "sources"]
TILED = [
    "start_tiles", "tiles", "split_tiles", "requests", "retries", "blocked_answers", "rate_limit_wait_s",
    "max_requests_per_s", "failed_tiles", "failed_tile_share", "failed_tile_errors", "capped_min_tiles",
    "flights_received", "duplicates_removed", "tile_cap", "concurrency", "fetch_wall_s",
    "plan_source", "tiles_planned", "plan_target_per_tile", "plan_prior_flights",
]  # fmt: skip
SNAPSHOT = [
    "snapshot_path", "snapshot_format", "snapshot_missing_optional", "snapshot_ignored_columns",
    "snapshot_renamed_columns", "flights_received", "duplicates_removed",
]  # fmt: skip
EVERY_RUN_TAIL = [
    "rows", "stale_rows", "stale_share", "undated_rows", "capture_time", "capture_time_from", "capture_lag_s",
    "density_file", "airports", "airlines", "wall_s",
]  # fmt: skip


def test_the_manifest_entry_holds_the_figures_of_the_kind_of_source_that_served(tmp_path):
    feed = SimulatedFeed([flight("a1", 0.0, 0.0), flight("a2", 10, 10)])
    tiled = extract_to_raw(_config(tmp_path / "tiled"), LocalStorage(), feed=feed, now=NOW).stats.to_dict()
    assert list(tiled) == EVERY_RUN_HEAD + TILED + EVERY_RUN_TAIL  # no snapshot_* key, no api_usage
    assert (tiled["tiles"], tiled["split_tiles"], tiled["capped_min_tiles"], tiled["tile_cap"]) == (72, 0, [], 1500)
    assert (tiled["undated_rows"], tiled["capture_time_from"]) == (0, "data")

    path = tmp_path / "flights_20250719_084941.csv"
    path.write_text("id,latitude,longitude,time,from\n3a,45.808,8.7723,1752914978,LHR\n3b,10,20,,CDG\n")
    config = _config(tmp_path / "lake", source="snapshot", snapshot_path=str(path))
    snapshot = extract_to_raw(config, LocalStorage(), now=NOW).stats.to_dict()
    assert list(snapshot) == EVERY_RUN_HEAD + SNAPSHOT + EVERY_RUN_TAIL  # no tile or plan figure
    assert snapshot["snapshot_path"] == str(path) and snapshot["snapshot_ignored_columns"] == ["from"]
    assert (snapshot["rows"], snapshot["undated_rows"], snapshot["density_file"]) == (2, 1, "")
    assert snapshot["sources"] == {
        "order": ["snapshot"],
        "served": "snapshot",
        "attempts": [
            {
                "source": "snapshot",
                "outcome": "served",
                "wall_s": snapshot["sources"]["attempts"][0]["wall_s"],
                "flights_received": 2,
            }
        ],
    }


def test_the_official_api_adds_its_usage_to_the_tiled_figures(tmp_path, monkeypatch):
    class MeteredFeed(SimulatedFeed):
        def usage(self):
            return {"requests": self.requests, "flights_returned": 1, "errors_by_status": {}, "limit": 30_000}

    monkeypatch.setenv("FR24_API_TOKEN", "tok")
    feed = MeteredFeed([flight("a1", 1, 1, time=T_NOW)], cap=30_000)
    stats = extract_to_raw(_config(tmp_path, source="fr24api"), LocalStorage(), feed=feed, now=NOW).stats
    assert list(stats.to_dict()) == EVERY_RUN_HEAD + TILED + ["api_usage"] + EVERY_RUN_TAIL
    assert stats.api_usage == {"requests": 72, "flights_returned": 1, "errors_by_status": {}, "limit": 30_000}
    assert stats.snapshot_path is None and stats.tile_cap == 30_000
