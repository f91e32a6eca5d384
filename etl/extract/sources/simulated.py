"""The demo source: a simulated FR24 feed over a world (etl.extract.simulate.world).

It keeps what the tiler meets in the real feed: the bounds filter, the per-request cap, latency and injected failures.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.extract.feed import Bounds, TransientFeedError
from etl.extract.simulate.world import World, airlines, airport_positions

if TYPE_CHECKING:
    from etl.core.config import JobConfig


class SimulatedFeed:
    """Serves `flights` like the live feed: at most `cap` per answer (the highest first, as FR24 favours them).

    `failure_rate` is the seeded probability that a request fails transiently; `fail_when(bounds)` makes chosen
    tiles fail every time. `requests` counts every call, failed ones included.
    """

    def __init__(
        self,
        flights: Iterable[dict[str, str]],
        *,
        cap: int = 1500,
        latency_s: float = 0.0,
        failure_rate: float = 0.0,
        seed: int = 0,
        fail_when: Callable[[Bounds], bool] | None = None,
    ) -> None:
        rows = list(flights)
        # Sorted by longitude so a box is a bisect plus a latitude test, not a scan of the world.
        keyed = sorted(((float(r["longitude"]), float(r["latitude"]), i) for i, r in enumerate(rows)))
        self._lons = [k[0] for k in keyed]
        self._lats = [k[1] for k in keyed]
        self._index = [k[2] for k in keyed]
        self._rows = rows
        # Which flights survive the cap: highest altitude first (the real feed's answers lean to cruising
        # long-haul traffic), then id, so the choice is deterministic.
        order = sorted(range(len(rows)), key=lambda i: (-_altitude(rows[i]), rows[i]["id"]))
        self._priority = [0] * len(rows)
        for rank, i in enumerate(order):
            self._priority[i] = rank
        self.cap = cap
        self.latency_s = latency_s
        self.failure_rate = failure_rate
        self.fail_when = fail_when
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0

    def __len__(self) -> int:
        return len(self._rows)

    def _matching_rows(self, bounds: Bounds) -> list[int]:
        lo = bisect.bisect_left(self._lons, bounds.west)
        hi = bisect.bisect_right(self._lons, bounds.east)
        south, north, lats, index = bounds.south, bounds.north, self._lats, self._index
        return [index[k] for k in range(lo, hi) if south <= lats[k] <= north]

    def matching(self, bounds: Bounds) -> list[dict[str, str]]:
        """Every flight inside `bounds` (edges included), ignoring the cap."""
        return [self._rows[i] for i in self._matching_rows(bounds)]

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        """The flights in `bounds`, at most `cap` of them, after the latency; may fail transiently."""
        with self._lock:
            self.requests += 1
            unlucky = self.failure_rate > 0 and self._rng.random() < self.failure_rate
        if self.latency_s:
            time.sleep(self.latency_s)
        if unlucky or (self.fail_when is not None and self.fail_when(bounds)):
            raise TransientFeedError(f"simulated 503 for tile {bounds.label}")
        found = self._matching_rows(bounds)
        if len(found) > self.cap:
            found = sorted(found, key=self._priority.__getitem__)[: self.cap]
        return [dict(self._rows[i]) for i in found]

    def fetch_airports(self) -> list[dict[str, Any]]:
        """The simulator's airports (ISO country codes, as airportsdata gives them)."""
        return [
            {
                "iata": iata,
                "icao": "",
                "name": iata,
                "country": country,
                "latitude": lat,
                "longitude": lon,
                "altitude": "",
            }
            for iata, (lat, lon, country) in sorted(airport_positions().items())
        ]

    def fetch_airlines(self) -> list[dict[str, Any]]:
        """The real airlines the simulator flies."""
        return [{"icao": a.icao, "iata": a.iata, "name": a.name} for a in airlines()]


def feed(config: JobConfig, now: datetime) -> SimulatedFeed:
    """The demo's factory (etl.core.source_registry): a world of config.demo_flights flights captured at `now`."""
    world = World.generate(config.demo_flights, config.demo_seed, capture_time=now)
    return SimulatedFeed(world.flights, cap=config.extract.tile_cap, seed=config.demo_seed)


def _altitude(row: dict[str, str]) -> int:
    try:
        return int(float(row.get("altitude") or 0))
    except ValueError:
        return 0
