"""Coverage of a whole-world capture: the tiled extractor beside one unbounded request and a fixed 10x10 grid.

Run: python benchmarks/extract_coverage.py [--flights 20000] [--latency 0.1] [--concurrency 8] [--repeats 5]
Every strategy reads the same seeded simulated world through a feed with the 1,500 cap, the given latency,
and 0 % then 2 % seeded transient failures. Each case runs --repeats times with a different failure draw
(a 2 % rate over ~100 requests may draw no failure at all in one run): the table shows the worst coverage,
the mean and worst wall time, and the retries and failed tiles summed over the repeats.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.config import ExtractSettings
from etl.extract.feed import WORLD
from etl.extract.tiling import extract_world, world_grid
from etl.simulate.feed import SimulatedFeed
from etl.simulate.world import World


def main() -> None:
    """Print flights captured / in the world, requests (and the lower bound) and wall time per strategy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cap", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--repeats", type=int, default=5, help="runs per case, each with its own failure draw")
    args = parser.parse_args()

    world = World.generate(args.flights, args.seed)
    lower_bound = math.ceil(len(world) / args.cap)
    settings = ExtractSettings(tile_cap=args.cap, concurrency=args.concurrency)
    no_split = ExtractSettings(tile_cap=10**9, concurrency=args.concurrency)
    strategies = [
        ("tiled (30-deg start, split at cap)", settings, None),
        ("single unbounded request", no_split, [WORLD]),
        ("fixed 10x10-degree grid", no_split, world_grid(10)),
    ]
    print(
        f"world: {len(world):,} flights, cap {args.cap}, latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency}, lower bound ceil(N/cap) = {lower_bound} requests, "
        f"{args.repeats} runs per case"
    )
    header = (
        f"{'failures':>8}  {'strategy':<36} {'worst captured':>16} {'coverage':>9} {'requests':>9} {'retries':>8} "
        f"{'failed':>7} {'mean s':>7} {'worst s':>7}"
    )
    print(header)
    print("-" * len(header))
    for failure_rate in (0.0, 0.02):
        for name, strategy_settings, tiles in strategies:
            captured, requests, retries, failed, walls = [], [], 0, 0, []
            for repeat in range(args.repeats):
                seed = args.seed + repeat
                feed = SimulatedFeed(
                    world.flights, cap=args.cap, latency_s=args.latency, failure_rate=failure_rate, seed=seed
                )
                started = time.perf_counter()
                capture = extract_world(feed, strategy_settings, start_tiles=tiles, seed=seed)
                walls.append(time.perf_counter() - started)
                captured.append(len(capture.rows))
                requests.append(capture.stats["requests"])
                retries += capture.stats["retries"]
                failed += len(capture.stats["failed_tiles"])
            worst = min(captured)
            print(
                f"{failure_rate:>8.0%}  {name:<36} {worst:>7,} / {len(world):<6,} {worst / len(world):>9.2%} "
                f"{max(requests):>9} {retries:>8} {failed:>7} {sum(walls) / len(walls):>7.2f} {max(walls):>7.2f}"
            )


if __name__ == "__main__":
    main()
