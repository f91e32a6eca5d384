"""Whole-world capture: tile the globe, split tiles that hit the feed's cap, retry, de-duplicate by flight id."""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from etl.columns import FLIGHT_FIELDS, RAW_REQUESTED_AT, RAW_TILE
from etl.config import ExtractSettings
from etl.extract.feed import WORLD, Bounds, Feed, TransientFeedError

log = logging.getLogger(__name__)

START_TILE_DEG = 30.0  # 6 x 12 starting tiles: few requests for empty oceans, few split rounds for busy areas


def world_grid(step_deg: float = START_TILE_DEG) -> list[Bounds]:
    """A grid of tiles covering the whole globe, latitude -90..90 and longitude -180..180 (180.0 included)."""
    if not 0 < step_deg <= 180:
        raise ValueError("step_deg must be in (0, 180]")
    lats = _edges(-90.0, 90.0, step_deg)
    lons = _edges(-180.0, 180.0, step_deg)
    return [Bounds(s, n, w, e) for s, n in itertools.pairwise(lats) for w, e in itertools.pairwise(lons)]


def _edges(start: float, stop: float, step: float) -> list[float]:
    edges = [start]
    while edges[-1] + step < stop - 1e-9:
        edges.append(start + step * len(edges))
    edges.append(stop)
    return edges


def iso_utc(moment: datetime) -> str:
    """`2026-11-22T14:00:03Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TileOutcome:
    """What one tile gave: its flights, or the error that made it a gap."""

    bounds: Bounds
    flights: list[dict[str, str]] = field(default_factory=list)
    requested_at: str = ""
    attempts: int = 0
    error: str | None = None


@dataclass
class Capture:
    """The de-duplicated flights of one world capture (raw rows: FLIGHT_FIELDS + tile + requested_at) and stats."""

    rows: list[dict[str, str]]
    stats: dict[str, Any]


class TiledExtractor:
    """Fetches the world tile by tile with bounded concurrency, retries with backoff + full jitter, and splitting."""

    def __init__(
        self,
        feed: Feed,
        settings: ExtractSettings | None = None,
        *,
        start_tiles: list[Bounds] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        seed: int | None = None,
    ) -> None:
        self.feed = feed
        self.settings = settings or ExtractSettings()
        self.start_tiles = start_tiles if start_tiles is not None else world_grid()
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)], so retries of many tiles do not align."""
        ceiling = min(self.settings.backoff_max_s, self.settings.backoff_base_s * (2**attempt))
        with self._rng_lock:
            return self._rng.uniform(0, ceiling)

    def fetch_tile(self, bounds: Bounds) -> TileOutcome:
        """One tile with retries on TransientFeedError; never raises, a final failure is returned as the error."""
        outcome = TileOutcome(bounds)
        for attempt in range(self.settings.retries + 1):
            outcome.attempts += 1
            requested_at = iso_utc(self._clock())
            try:
                outcome.flights = self.feed.fetch_flights(bounds)
                outcome.requested_at = requested_at
                outcome.error = None
                return outcome
            except TransientFeedError as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
                if attempt < self.settings.retries:
                    self._sleep(self._backoff(attempt))
            except Exception as exc:  # not worth retrying (bad answer, 4xx): the tile is a gap
                outcome.error = f"{type(exc).__name__}: {exc}"
                break
        log.warning("tile %s failed after %d attempt(s): %s", bounds.label, outcome.attempts, outcome.error)
        return outcome

    def _splittable(self, bounds: Bounds) -> bool:
        return min(bounds.height, bounds.width) / 2 >= self.settings.min_tile_deg

    def run(self) -> Capture:
        """Capture the world: every start tile, and the quadrants of any tile that came back at the cap."""
        started = time.perf_counter()
        cap = self.settings.tile_cap
        outcomes: list[TileOutcome] = []
        capped_min: list[str] = []
        splits = 0
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="tile") as pool:
            pending: dict[Future[TileOutcome], Bounds] = {pool.submit(self.fetch_tile, b): b for b in self.start_tiles}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    del pending[future]
                    outcome = future.result()
                    outcomes.append(outcome)
                    if outcome.error is None and len(outcome.flights) >= cap:
                        if self._splittable(outcome.bounds):
                            splits += 1
                            for quarter in outcome.bounds.quadrants():
                                pending[pool.submit(self.fetch_tile, quarter)] = quarter
                        else:
                            capped_min.append(outcome.bounds.label)
        outcomes.sort(key=lambda o: o.bounds)  # completion order varies between runs; the output must not
        rows, received, duplicates = deduplicate(outcomes)
        failed = [o.bounds.label for o in outcomes if o.error is not None]
        requests = sum(o.attempts for o in outcomes)
        stats: dict[str, Any] = {
            "start_tiles": len(self.start_tiles),
            "tiles": len(outcomes),
            "split_tiles": splits,
            "requests": requests,
            "retries": requests - len(outcomes),
            "failed_tiles": failed,
            "failed_tile_share": round(len(failed) / len(outcomes), 6) if outcomes else 0.0,
            "failed_tile_errors": {o.bounds.label: o.error for o in outcomes if o.error is not None},
            "capped_min_tiles": sorted(capped_min),
            "flights_received": received,
            "duplicates_removed": duplicates,
            "tile_cap": cap,
            "concurrency": self.settings.concurrency,
            "fetch_wall_s": round(time.perf_counter() - started, 3),
        }
        return Capture(rows, stats)


def deduplicate(outcomes: list[TileOutcome]) -> tuple[list[dict[str, str]], int, int]:
    """Raw rows with one row per flight id (the newest position wins), the rows received and the duplicates removed.

    Flights on an edge two tiles share, and every flight of a tile that was split, arrive more than once.
    """
    raw = []
    for outcome in outcomes:
        label = outcome.bounds.label
        for flight in outcome.flights:
            row = {name: _text(flight.get(name)) for name in FLIGHT_FIELDS}
            row[RAW_TILE] = label
            row[RAW_REQUESTED_AT] = outcome.requested_at
            raw.append(row)
    rows, received = deduplicate_rows(raw)
    return rows, received, received - len(rows)


def deduplicate_rows(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    """One row per flight id, first-seen order, the newest `time` winning; rows without an id are all kept."""
    by_id: dict[str, dict[str, str]] = {}
    no_id: list[dict[str, str]] = []
    for row in rows:
        flight_id = row["id"]
        if not flight_id:
            no_id.append(row)  # cannot be matched; kept so the clean stage quarantines it visibly
            continue
        seen = by_id.get(flight_id)
        if seen is None or _epoch(row["time"]) > _epoch(seen["time"]):
            by_id[flight_id] = row
    return [*by_id.values(), *no_id], len(rows)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _epoch(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("-inf")


def extract_world(
    feed: Feed, settings: ExtractSettings | None = None, *, start_tiles: list[Bounds] | None = None, **kwargs: Any
) -> Capture:
    """Capture the whole world from `feed` with the tiled extractor."""
    return TiledExtractor(feed, settings, start_tiles=start_tiles, **kwargs).run()


def single_request(feed: Feed, bounds: Bounds = WORLD) -> Capture:
    """One unbounded request, as a naive client would do (a baseline: it stops at the cap)."""
    return TiledExtractor(feed, ExtractSettings(tile_cap=10**9, retries=0), start_tiles=[bounds]).run()
