"""Whole-world capture: tile the globe, split tiles that hit the feed's cap, retry, de-duplicate by flight id.

A circuit breaker guards the source: `max_refusals_in_a_row` (5) answers in a row that refuse this client (blocked:
403, 429, a Cloudflare challenge or a page where JSON was expected; unauthorized: 401, a 403 of the plan) and the
capture stops at once, no further request sent, with SourceRefusedError: the source is unusable for this run and the
failover tries the next one. Any other answer (flights, a 5xx, a timeout) ends the streak.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from etl.core.columns import FLIGHT_FIELDS, RAW_AIRPORT_ICAO_COLUMNS, RAW_REQUESTED_AT, RAW_TILE
from etl.core.config import ExtractSettings
from etl.core.errors import AccessRefusedError, SourceRefusedError
from etl.extract.feed import WORLD, BlockedFeedError, Bounds, Feed, TransientFeedError
from etl.extract.plan import split_capped, world_grid

log = logging.getLogger(__name__)


def iso_utc(moment: datetime) -> str:
    """`2026-11-22T14:00:03Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """At most `per_second` request starts per second across threads, and a pause every thread honours."""

    def __init__(
        self,
        per_second: float,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._next = 0.0  # the earliest moment the next request may start
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Wait for this request's turn: starts are spaced by 1 / per_second, after any pause."""
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
            wait = start - now
            self.waited_s += wait
        if wait > 0:
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """No request starts for `seconds` from now (the source asked to slow down)."""
        with self._lock:
            self._next = max(self._next, self._monotonic() + seconds)


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
    """The de-duplicated flights of one world capture (raw rows: RAW_COLUMNS, ICAO airports where given) and stats."""

    rows: list[dict[str, str]]
    stats: dict[str, Any]


class TiledExtractor:
    """Fetches the world tile by tile with bounded concurrency, a request-rate ceiling, retries with backoff + full
    jitter (longer when the source says slow down), and splitting of tiles that come back at the cap."""

    def __init__(
        self,
        feed: Feed,
        settings: ExtractSettings | None = None,
        *,
        start_tiles: list[Bounds] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        seed: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.feed = feed
        self.settings = settings or ExtractSettings()
        self.start_tiles = start_tiles if start_tiles is not None else world_grid()
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.limiter = RateLimiter(self.settings.max_requests_per_s, sleep, monotonic)
        self._blocked = 0
        self._refusals = 0  # refusals in a row, over every tile (the circuit breaker's count)
        self._last_refusal: BaseException | None = None
        self._tripped = threading.Event()

    def _wait(self, seconds: float) -> None:
        """Back off; with the real clock, a tripped breaker wakes the wait at once."""
        if self._sleep is time.sleep:
            self._tripped.wait(seconds)
        else:
            self._sleep(seconds)

    def _answered(self, refusal: BaseException | None) -> None:
        """Count an answer for the breaker: a refusal lengthens the streak (and may trip it), anything else ends it."""
        with self._rng_lock:
            if refusal is None:
                self._refusals = 0
                return
            self._refusals += 1
            self._last_refusal = refusal
            if self._refusals >= self.settings.max_refusals_in_a_row:
                self._tripped.set()

    def refused_error(self) -> SourceRefusedError:
        """The breaker's verdict, in one line: the source's own words for an access refusal, else the streak."""
        last = self._last_refusal
        if isinstance(last, AccessRefusedError):
            return SourceRefusedError(f"{last}; nothing written")
        return SourceRefusedError(
            f"source refused: {self._refusals} answers in a row were blocked or challenged (last: "
            f"{type(last).__name__}: {str(last)[:200]}); unusable for this run, nothing written"
        )

    def _backoff(self, attempt: int, *, blocked: bool = False) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)], so retries of many tiles do not align.

        A blocked answer (403, 429, Cloudflare challenge) waits at least half the blocked ceiling: jitter spreads
        the retries, but none comes back soon.
        """
        s = self.settings
        if blocked:
            base, top = s.blocked_backoff_base_s, s.blocked_backoff_max_s
        else:
            base, top = s.backoff_base_s, s.backoff_max_s
        ceiling = min(top, base * (2**attempt))
        with self._rng_lock:
            return self._rng.uniform(ceiling / 2 if blocked else 0, ceiling)

    def fetch_tile(self, bounds: Bounds) -> TileOutcome:
        """One tile with retries on TransientFeedError; never raises, a final failure is returned as the error."""
        outcome = TileOutcome(bounds)
        for attempt in range(self.settings.retries + 1):
            if self._tripped.is_set():
                outcome.error = outcome.error or "not requested: the source refused too many answers in a row"
                break
            self.limiter.acquire()
            if self._tripped.is_set():  # tripped while this request waited for its turn
                outcome.error = outcome.error or "not requested: the source refused too many answers in a row"
                break
            outcome.attempts += 1
            requested_at = iso_utc(self._clock())
            try:
                outcome.flights = self.feed.fetch_flights(bounds)
                outcome.requested_at = requested_at
                outcome.error = None
                self._answered(None)
                return outcome
            except TransientFeedError as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
                blocked = isinstance(exc, BlockedFeedError)
                self._answered(exc if blocked else None)
                if attempt < self.settings.retries and not self._tripped.is_set():
                    delay = self._backoff(attempt, blocked=blocked)
                    if blocked:
                        with self._rng_lock:
                            self._blocked += 1
                        self.limiter.pause(delay)  # every thread slows down, not only this tile's
                    self._wait(delay)
            except Exception as exc:  # not worth retrying (bad answer, 4xx): the tile is a gap
                outcome.error = f"{type(exc).__name__}: {exc}"
                self._answered(exc if isinstance(exc, AccessRefusedError) else None)
                break
        if outcome.attempts:  # a tile the breaker kept from being requested is summed up by the capture's error
            log.warning("tile %s failed after %d attempt(s): %s", bounds.label, outcome.attempts, outcome.error)
        return outcome

    def _split(self, outcome: TileOutcome) -> list[Bounds]:
        """The pieces a capped tile is cut into (split_capped), or the tile alone when it is too small to cut."""
        return split_capped(outcome.bounds, outcome.flights, parts=4, min_deg=self.settings.min_tile_deg)

    def run(self) -> Capture:
        """Capture the world: every start tile, and the pieces of any tile that came back at the cap."""
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
                    if outcome.error is None and len(outcome.flights) >= cap and not self._tripped.is_set():
                        pieces = self._split(outcome)
                        if len(pieces) > 1:
                            splits += 1
                            for piece in pieces:
                                pending[pool.submit(self.fetch_tile, piece)] = piece
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
            "retries": sum(max(o.attempts - 1, 0) for o in outcomes),
            "blocked_answers": self._blocked,
            "rate_limit_wait_s": round(self.limiter.waited_s, 3),
            "max_requests_per_s": self.settings.max_requests_per_s,
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
        if self._tripped.is_set():
            error = self.refused_error()
            usage = getattr(self.feed, "usage", None)
            asked = [o for o in outcomes if o.attempts]
            figures = {
                "tiles": len(asked),  # the tiles requested before the breaker tripped
                "tiles_not_requested": len(outcomes) - len(asked),
                "requests": requests,
                "failed_tile_share": round(sum(o.error is not None for o in asked) / len(asked), 6) if asked else 0.0,
                "flights_received": received,
            }
            error.figures = {**figures, **({"api_usage": usage()} if callable(usage) else {})}  # type: ignore[attr-defined]
            raise error
        return Capture(rows, stats)


def deduplicate(outcomes: list[TileOutcome]) -> tuple[list[dict[str, str]], int, int]:
    """Raw rows with one row per flight id (the newest position wins), the rows received and the duplicates removed.

    Flights on an edge two tiles share, and every flight of a tile that was split, arrive more than once.
    """
    raw = []
    for outcome in outcomes:
        label = outcome.bounds.label
        for flight in outcome.flights:
            row = {name: _text(flight.get(name)) for name in (*FLIGHT_FIELDS, *RAW_AIRPORT_ICAO_COLUMNS)}
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
    settings = ExtractSettings(tile_cap=10**9, retries=0, max_requests_per_s=0)
    return TiledExtractor(feed, settings, start_tiles=[bounds]).run()
