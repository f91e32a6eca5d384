"""Requests and coverage of a whole-world capture: the planned extractor (cold and warm) beside the 30-degree grid.

Run: python benchmarks/extract_coverage.py [--sizes 10000,20000,40000,80000] [--latency 0.02] [--repeats 3]

For each size, a seeded simulated world with real-world density (busy Europe, North America and East Asia) is
captured at slot T-2h, then moved on two hours (positions advanced along their routes, landed flights gone, new
departures, the total changed by up to +/-10 %); the world at T is what every strategy captures:
- today: the 30-degree grid (72 tiles), a capped tile split into its four quadrants (the extractor before plans);
- cold: the cold-start plan from FR24's zones, a capped tile cut at the medians of its answer;
- warm: the plan from the density of the T-2h capture (the previous slot), same safety net.
The feed has the 1,500 cap, the given latency per request and 0 % then 2 % seeded transient failures (5xx); 2 %
runs --repeats times with different draws and show the worst coverage and the most requests. The request ceiling
is off (it only spaces requests: at the default 2 per second a capture takes at least requests / 2 seconds) and the
backoff is shortened to 0.05-0.4 s, so the wall time shows requests and latency, not politeness.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.core.config import ExtractSettings
from etl.core.layout import RunSlot
from etl.extract.plan import Prior, density_of_rows, make_plan, world_grid
from etl.extract.simulate.world import World
from etl.extract.sources.simulated import SimulatedFeed
from etl.extract.tiling import TiledExtractor, TileOutcome

CAP = 1500
BOXES = {"Europe": (30, 70, -20, 40), "North America": (15, 60, -130, -60), "East Asia": (15, 50, 95, 145)}


class QuadrantExtractor(TiledExtractor):
    """The extractor as it was: a capped tile is split into its four quadrants, wherever its flights are."""

    def _split(self, outcome: TileOutcome) -> list:
        bounds = outcome.bounds
        if min(bounds.height, bounds.width) / 2 < self.settings.min_tile_deg:
            return [bounds]
        return list(bounds.quadrants())


def densest_box(world: World, frame: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The 10x10-degree box (whole-degree corners) inside `frame` holding the most flights: (count, south, west)."""
    south, north, west, east = frame
    counts: dict[tuple[int, int], int] = {}
    for f in world.flights:
        lat, lon = math.floor(float(f["latitude"])), math.floor(float(f["longitude"]))
        counts[(lat, lon)] = counts.get((lat, lon), 0) + 1
    best = (0, 0, 0)
    for s in range(south, north - 9):
        for w in range(west, east - 9):
            n = sum(counts.get((s + i, w + j), 0) for i in range(10) for j in range(10))
            best = max(best, (n, s, w))
    return best


def main() -> None:
    """Print requests / lower bound, coverage and wall time per world size, strategy and failure rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,40000,80000")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per simulated request")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the 2 %% case, each its own failure draw")
    args = parser.parse_args()
    settings = ExtractSettings(
        tile_cap=CAP,
        concurrency=args.concurrency,
        max_requests_per_s=0,
        backoff_base_s=0.05,
        backoff_max_s=0.4,
    )
    print(
        f"cap {CAP}, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, no request ceiling; "
        f"plan: {settings.plan_fill:.0%} of the cap per tile, {settings.plan_growth:.0%} growth allowance; "
        f"2 % failures: worst of {args.repeats} draws"
    )
    header = (
        f"{'flights':>7} {'strategy':<6} {'fail':>4} {'planned':>7} {'requests':>8} {'bound':>5} {'ratio':>6} "
        f"{'coverage':>9} {'retries':>7} {'wall s':>6}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        previous = World.generate(size, args.seed)
        world = previous.advance(2.0, seed=1)
        bound = math.ceil(len(world) / CAP)
        boxes = ", ".join(f"{name} {densest_box(world, frame)[0]:,}" for name, frame in BOXES.items())
        print(f"\nworld: {len(world):,} flights (moved on from {len(previous):,}); densest 10x10-degree box: {boxes}")
        print(header)
        print("-" * len(header))
        slot = RunSlot.parse("2026-11-22T12")
        prior = Prior(slot, density_of_rows(previous.flights, settings.plan_cell_deg), "")
        plans = {
            "today": (QuadrantExtractor, world_grid()),
            "cold": (TiledExtractor, _tiles(None, settings)),
            "warm": (TiledExtractor, _tiles(prior, settings)),
        }
        for failure_rate in (0.0, 0.02):
            for name, (extractor, tiles) in plans.items():
                runs = []
                for repeat in range(args.repeats if failure_rate else 1):
                    feed = SimulatedFeed(
                        world.flights, cap=CAP, latency_s=args.latency, failure_rate=failure_rate, seed=repeat
                    )
                    started = time.perf_counter()
                    capture = extractor(feed, settings, start_tiles=tiles, seed=repeat).run()
                    runs.append((len(capture.rows), capture.stats, time.perf_counter() - started))
                captured = min(r[0] for r in runs)
                requests = max(r[1]["requests"] for r in runs)
                retries = max(r[1]["retries"] for r in runs)
                wall = max(r[2] for r in runs)
                print(
                    f"{len(world):>7,} {name:<6} {failure_rate:>4.0%} {len(tiles):>7} {requests:>8} {bound:>5} "
                    f"{requests / bound:>5.2f}x {captured / len(world):>9.3%} {retries:>7} {wall:>6.2f}"
                )


def _tiles(prior: Prior | None, settings: ExtractSettings) -> list:
    plan = make_plan(
        prior,
        cap=settings.tile_cap,
        fill=settings.plan_fill,
        growth=settings.plan_growth,
        cold_flights=settings.cold_start_flights,
    )
    return plan.tiles


if __name__ == "__main__":
    main()
