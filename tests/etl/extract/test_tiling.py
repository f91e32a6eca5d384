from __future__ import annotations

import random
import threading
import time

import pytest

from etl.core.config import ExtractSettings
from etl.extract.feed import WORLD, BlockedFeedError, Bounds, TransientFeedError
from etl.extract.plan import world_grid
from etl.extract.simulate.world import World
from etl.extract.sources.simulated import SimulatedFeed
from etl.extract.tiling import (
    RateLimiter,
    TiledExtractor,
    deduplicate_rows,
    extract_world,
    single_request,
)
from tests.etl.extract.helpers import flight

NO_WAIT = {"sleep": lambda s: None}


def test_world_grid_covers_the_globe_including_longitude_180():
    tiles = world_grid(30)
    assert len(tiles) == 6 * 12
    assert min(t.south for t in tiles) == -90 and max(t.north for t in tiles) == 90
    assert min(t.west for t in tiles) == -180 and max(t.east for t in tiles) == 180
    assert sum(t.height * t.width for t in tiles) == 180 * 360
    assert any(t.contains(-17.5, 180.0) for t in tiles)
    assert any(t.contains(90.0, -180.0) for t in tiles)


def test_world_grid_with_uneven_step_still_ends_on_the_poles_and_antimeridian():
    tiles = world_grid(50)
    assert sorted({t.north for t in tiles}) == [-40, 10, 60, 90]
    assert sorted({t.east for t in tiles}) == [-130, -80, -30, 20, 70, 120, 170, 180]


def test_bounds_fr24_order_is_north_south_west_east():
    assert Bounds(-10.5, 20, -30, 40.25).fr24 == "20,-10.5,-30,40.25"
    assert Bounds(-10.5, 20, -30, 40.25).label == "-10.5,20,-30,40.25"
    with pytest.raises(ValueError, match="not a box"):
        Bounds(10, 0, 0, 10)


def test_capped_tile_is_cut_between_the_medians_of_its_answer():
    # 4 flights in the SW of an 8x8 tile, 1 at (6, 6); cap 3, so a capped answer holds ids 10, 11, 12 (id order).
    # Worked by hand: the tile is 8 high and 8 * cos(4 deg) = 7.98 wide, so the first cut is a latitude, between
    # the 1st and 2nd of the answer's latitudes [1, 1, 3]: 1.0. The south strip (no flight) is halved at lon 4;
    # the north part is cut between longitudes [1, 1, 3] at 1.0. Its [1,8]x[1,8] piece holds 5 (capped): cut at
    # latitude 1.0, clamped to 1 + min_tile_deg = 1.25, then [1,1.25] at lon (1 + 3) / 2 = 2 and [1.25,8] (one
    # answer point, (3, 1)) halved at lon 4.5. Requests: 1 + 4 + 4 = 9.
    flights = [flight(f"1{i}", lat, lon) for i, (lat, lon) in enumerate([(1, 1), (1, 3), (3, 1), (3, 3), (6, 6)])]
    feed = SimulatedFeed(flights, cap=3)
    capture = extract_world(feed, ExtractSettings(tile_cap=3), start_tiles=[Bounds(0, 8, 0, 8)], **NO_WAIT)
    assert sorted(r["id"] for r in capture.rows) == ["10", "11", "12", "13", "14"]
    assert capture.stats["tiles"] == 9
    assert capture.stats["requests"] == 9 == feed.requests
    assert capture.stats["split_tiles"] == 2
    assert capture.stats["capped_min_tiles"] == []
    # 3 (capped) + [2, 0, 2, 3 (capped)] + [1, 1, 2, 1] received, 5 kept.
    assert capture.stats["flights_received"] == 15
    assert capture.stats["duplicates_removed"] == 10
    by_id = {r["id"]: r for r in capture.rows}
    assert by_id["14"]["tile"] == "1.25,8,4.5,8"
    assert by_id["13"]["tile"] == "1.25,8,1,4.5"
    assert by_id["10"]["tile"] == "0,1,0,4"  # first in tile order among the four tiles that returned it


def test_capped_tile_at_minimum_size_is_recorded_not_split():
    flights = [flight("20", 0.1, 0.1), flight("21", 0.1, 0.1)]
    settings = ExtractSettings(tile_cap=2, min_tile_deg=0.5)
    capture = extract_world(SimulatedFeed(flights, cap=2), settings, start_tiles=[Bounds(0, 1, 0, 1)], **NO_WAIT)
    assert capture.stats["capped_min_tiles"] == ["0,0.5,0,0.5"]
    assert capture.stats["tiles"] == 5
    assert len(capture.rows) == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_worlds_are_fully_covered(seed):
    rng = random.Random(seed)
    points = []
    for _ in range(1500):  # dense clusters, a uniform background, and points on whole-degree edges
        if rng.random() < 0.6:
            lat, lon = rng.gauss(rng.choice([48, 40, 35]), 2), rng.gauss(rng.choice([2, -75, 139]), 2)
        else:
            lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        if rng.random() < 0.1:
            lat, lon = float(round(lat)), float(round(lon))
        points.append((max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon))))
    points += [(0.0, 180.0), (0.0, -180.0), (90.0, 0.0), (-90.0, 0.0), (0.0, 0.0)]
    flights = [flight(f"{i:08d}", lat, lon) for i, (lat, lon) in enumerate(points)]
    capture = extract_world(SimulatedFeed(flights, cap=60), ExtractSettings(tile_cap=60, concurrency=4), **NO_WAIT)
    ids = [r["id"] for r in capture.rows]
    assert len(ids) == len(set(ids)) == len(flights)
    assert capture.stats["failed_tiles"] == [] and capture.stats["capped_min_tiles"] == []


@pytest.mark.parametrize("seed", [7, 8])
def test_simulated_worlds_are_fully_covered_where_one_request_is_not(seed):
    world = World.generate(4000, seed)
    feed = SimulatedFeed(world.flights, cap=200)
    capture = extract_world(feed, ExtractSettings(tile_cap=200, concurrency=4), **NO_WAIT)
    assert {r["id"] for r in capture.rows} == {f["id"] for f in world.flights}
    assert len(capture.rows) == 4000
    assert len(single_request(feed).rows) == 200


def test_flight_on_a_shared_edge_is_kept_once():
    feed = SimulatedFeed([flight("30", 0.0, 5.0), flight("31", 5.0, 5.0)])
    tiles = [Bounds(-10, 0, 0, 10), Bounds(0, 10, 0, 10)]
    capture = extract_world(feed, ExtractSettings(), start_tiles=tiles, **NO_WAIT)
    assert sorted(r["id"] for r in capture.rows) == ["30", "31"]
    assert capture.stats["flights_received"] == 3
    assert capture.stats["duplicates_removed"] == 1


def test_deduplication_keeps_the_newest_position():
    rows = [
        flight("40", 1, 1, time=100, tile="a"),
        flight("41", 2, 2, time=100),
        flight("40", 1.5, 1.5, time=160, tile="b"),
        flight("40", 1.2, 1.2, time=130, tile="c"),
        flight("", 3, 3),
        flight("", 4, 4),
    ]
    kept, received = deduplicate_rows(rows)
    assert received == 6
    assert [(r["id"], r["latitude"]) for r in kept] == [("40", "1.5"), ("41", "2.0"), ("", "3.0"), ("", "4.0")]


class FlakyFeed:
    """Fails the first `failures` calls per tile with `error`, then answers with its flights."""

    def __init__(self, flights, failures, error=TransientFeedError):
        self.inner = SimulatedFeed(flights)
        self.failures = failures
        self.error = error
        self.calls: dict[Bounds, int] = {}
        self.lock = threading.Lock()

    def fetch_flights(self, bounds):
        with self.lock:
            self.calls[bounds] = self.calls.get(bounds, 0) + 1
            count = self.calls[bounds]
        if count <= self.failures.get(bounds, 0):
            raise self.error(f"boom {count}")
        return self.inner.fetch_flights(bounds)


def test_transient_failures_are_retried_with_bounded_full_jitter_backoff():
    tile = Bounds(0, 10, 0, 10)
    feed = FlakyFeed([flight("50", 5, 5)], {tile: 2})
    sleeps: list[float] = []
    settings = ExtractSettings(retries=4, backoff_base_s=0.5, backoff_max_s=8, max_requests_per_s=0)
    capture = extract_world(feed, settings, start_tiles=[tile], sleep=sleeps.append, seed=1)
    assert [r["id"] for r in capture.rows] == ["50"]
    assert capture.stats["requests"] == 3 and capture.stats["retries"] == 2
    assert capture.stats["failed_tiles"] == []
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


def test_a_tile_that_keeps_failing_is_a_recorded_gap_and_the_run_goes_on():
    bad, good = Bounds(0, 10, 0, 10), Bounds(0, 10, 10, 20)
    feed = FlakyFeed([flight("60", 5, 5), flight("61", 5, 15)], {bad: 99})
    capture = extract_world(feed, ExtractSettings(retries=3), start_tiles=[bad, good], **NO_WAIT)
    assert [r["id"] for r in capture.rows] == ["61"]
    assert capture.stats["failed_tiles"] == ["0,10,0,10"]
    assert capture.stats["failed_tile_share"] == 0.5
    assert feed.calls[bad] == 4  # the first attempt and 3 retries
    assert "TransientFeedError" in capture.stats["failed_tile_errors"]["0,10,0,10"]


def test_a_non_retryable_error_fails_the_tile_at_once():
    tile = Bounds(0, 10, 0, 10)
    feed = FlakyFeed([flight("70", 5, 5)], {tile: 1}, error=ValueError)
    capture = extract_world(feed, ExtractSettings(retries=4), start_tiles=[tile], **NO_WAIT)
    assert capture.rows == [] and feed.calls[tile] == 1
    assert capture.stats["failed_tiles"] == ["0,10,0,10"]


def test_requests_never_exceed_the_concurrency_bound():
    active, peak, lock = [0], [0], threading.Lock()

    class CountingFeed:
        def fetch_flights(self, bounds):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.005)
            with lock:
                active[0] -= 1
            return []

    extract_world(CountingFeed(), ExtractSettings(concurrency=3), start_tiles=world_grid(30), **NO_WAIT)
    assert 1 <= peak[0] <= 3


def test_single_request_over_the_world_stops_at_the_cap():
    world = World.generate(3000, 5)
    capture = single_request(SimulatedFeed(world.flights, cap=1500), WORLD)
    assert len(capture.rows) == 1500 and capture.stats["requests"] == 1


class FakeClock:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_request_starts_and_honours_a_pause():
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock.sleep, clock.monotonic)
    starts = []
    for _ in range(4):
        limiter.acquire()
        starts.append(clock.now)
    assert starts == [0.0, 0.5, 1.0, 1.5]  # 2 per second
    limiter.pause(10.0)  # at 1.5: nothing starts before 11.5
    limiter.acquire()
    assert clock.now == 11.5
    assert limiter.waited_s == 0.5 * 3 + 10.0


def test_no_ceiling_means_no_wait():
    clock = FakeClock()
    limiter = RateLimiter(0.0, clock.sleep, clock.monotonic)
    for _ in range(100):
        limiter.acquire()
    assert clock.sleeps == [] and clock.now == 0.0


@pytest.mark.parametrize(
    ("error", "bounds_per_retry"),
    [(BlockedFeedError, [(2.5, 5.0), (5.0, 10.0)]), (TransientFeedError, [(0.0, 0.5), (0.0, 1.0)])],
)
def test_blocked_answers_back_off_longer_than_server_errors(error, bounds_per_retry):
    # Blocked: base 5 s, at least half the ceiling: [2.5, 5] then [5, 10]. 5xx: base 0.5 s, full jitter.
    tile = Bounds(0, 10, 0, 10)
    feed = FlakyFeed([flight("55", 5, 5)], {tile: 2}, error=error)
    clock = FakeClock()
    settings = ExtractSettings(retries=4, max_requests_per_s=0, blocked_backoff_base_s=5, blocked_backoff_max_s=60)
    capture = extract_world(feed, settings, start_tiles=[tile], sleep=clock.sleep, monotonic=clock.monotonic, seed=3)
    assert [r["id"] for r in capture.rows] == ["55"]
    assert len(clock.sleeps) == 2  # one wait per retry: the pause and the retry's own sleep are the same wait
    for slept, (low, high) in zip(clock.sleeps, bounds_per_retry, strict=True):
        assert low <= slept <= high
    assert capture.stats["blocked_answers"] == (2 if error is BlockedFeedError else 0)


def test_a_block_on_one_tile_holds_back_the_other_tiles():
    # Tile a is blocked once. While a waits out its backoff, another tile (b) asks to start: the pause a's block
    # set must hold b back too. b's request is made from inside a's backoff sleep, before the clock moves on.
    a, b = Bounds(0, 10, 0, 10), Bounds(0, 10, 10, 20)
    feed = FlakyFeed([flight("56", 5, 5), flight("57", 5, 15)], {a: 1}, error=BlockedFeedError)
    clock = FakeClock()
    starts: dict[Bounds, list[float]] = {}
    inner = feed.fetch_flights

    def recording(bounds):
        starts.setdefault(bounds, []).append(clock.now)
        return inner(bounds)

    feed.fetch_flights = recording
    settings = ExtractSettings(max_requests_per_s=0, blocked_backoff_base_s=4, blocked_backoff_max_s=4)
    other: list = []

    def sleep(seconds):
        if not other:
            other.append(None)
            other.append(extractor.fetch_tile(b))  # another thread's turn, during a's backoff
        clock.sleep(seconds)

    extractor = TiledExtractor(feed, settings, sleep=sleep, monotonic=clock.monotonic, seed=1)
    outcome_a = extractor.fetch_tile(a)
    assert [f["id"] for f in outcome_a.flights] == ["56"] and [f["id"] for f in other[1].flights] == ["57"]
    assert starts[a][0] == 0.0
    assert 2.0 <= starts[b][0] <= 4.0  # b waited out a's backoff, drawn in [2, 4] s


class ScriptedFeed:
    """Answers each request in turn from a script: an exception to raise, or flights to return."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.requests = 0

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        self.requests += 1
        answer = self.script.pop(0) if self.script else []
        if isinstance(answer, Exception):
            raise answer
        return answer


ONE_AT_A_TIME = ExtractSettings(
    concurrency=1, retries=0, max_requests_per_s=0, backoff_base_s=0, backoff_max_s=0, blocked_backoff_base_s=0,
    blocked_backoff_max_s=0, max_refusals_in_a_row=3,
)  # fmt: skip
TILES = [Bounds(0, 10, i * 10, i * 10 + 10) for i in range(8)]


def test_refusals_in_a_row_trip_the_breaker_and_no_further_request_is_sent():
    from etl.core.errors import AccessRefusedError, SourceRefusedError

    refusals = [BlockedFeedError("HTTP 403"), AccessRefusedError("HTTP 401"), BlockedFeedError("challenge page")]
    feed = ScriptedFeed([[flight("a", 1, 1)], *refusals])
    with pytest.raises(SourceRefusedError) as raised:
        TiledExtractor(feed, ONE_AT_A_TIME, start_tiles=TILES, sleep=lambda s: None).run()
    assert feed.requests == 4  # one answer, three refusals; the other four tiles never asked
    assert str(raised.value) == (
        "source refused: 3 answers in a row were blocked or challenged (last: BlockedFeedError: challenge page); "
        "unusable for this run, nothing written"
    )
    assert raised.value.figures == {
        "tiles": 4, "tiles_not_requested": 4, "requests": 4, "failed_tile_share": 0.75, "flights_received": 1
    }  # fmt: skip


def test_an_access_refusal_last_is_the_breaker_s_own_words():
    from etl.core.errors import AccessRefusedError, SourceRefusedError

    feed = ScriptedFeed([AccessRefusedError("the official API refused the token (401): check the secret S")] * 3)
    with pytest.raises(SourceRefusedError, match=r"^the official API refused the token \(401\): check the secret S; "):
        TiledExtractor(feed, ONE_AT_A_TIME, start_tiles=TILES, sleep=lambda s: None).run()


def test_any_other_answer_ends_the_streak():
    blocked = BlockedFeedError("403")
    script = [blocked, blocked, TransientFeedError("503"), blocked, blocked, [flight("a", 1, 1)], blocked, blocked]
    capture = TiledExtractor(ScriptedFeed(script), ONE_AT_A_TIME, start_tiles=TILES, sleep=lambda s: None).run()
    assert capture.stats["requests"] == 8 and len(capture.stats["failed_tiles"]) == 7 and len(capture.rows) == 1
