"""Where a run's flights come from: each source a peer module, chosen by name.

    flightradarapi  FlightRadarAPI's web feed (the default live source)        etl.sources.flightradarapi
    fr24api         the official Flightradar24 API through fr24sdk, with a token etl.sources.fr24api
    demo            a simulated world served like the web feed (etl.simulate)  etl.sources.simulated
    snapshot        a recorded capture (CSV, JSON or Parquet), read whole       etl.sources.snapshot

The first three sit behind the feed interface the tiled extractor reads (etl.extract.feed.Feed); a snapshot is one
file read at once. This package sits beside etl/extract rather than under it so that the extractor (tiling, plan,
health gate, landing) knows sources by name only: it asks `feed_for(name, ...)` and never imports the simulator,
the SDKs or their HTTP clients itself. Each source module is imported when its source is used, so a run pays only
for the one it reads, and nothing here imports etl.extract at import time (etl.extract's landing imports this
package).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.config import ConfigError, ExtractSettings, JobConfig

if TYPE_CHECKING:
    from etl.extract.feed import Feed


def extract_settings_for(name: str, config: JobConfig) -> ExtractSettings:
    """The tiler's settings for a source: the official API's cap is its request `limit`, not the web feed's 1,500."""
    if name == "fr24api":
        return replace(config.extract, tile_cap=config.fr24api_limit)
    return config.extract


def feed_for(name: str, config: JobConfig, now: datetime) -> Feed:
    """The feed a tiled source is read through (the demo's simulated world is captured at `now`)."""
    if name == "flightradarapi":
        from etl.sources.flightradarapi import FlightRadarFeed

        return FlightRadarFeed(timeout_s=config.extract.timeout_s, feed_url=config.feed_url)
    if name == "fr24api":
        from etl.sources.fr24api import Fr24ApiFeed, fr24api_token

        return Fr24ApiFeed(
            fr24api_token(config),
            base_url=config.fr24api_url,
            limit=config.fr24api_limit,
            timeout_s=config.extract.timeout_s,
        )
    if name == "demo":
        from etl.simulate.world import World
        from etl.sources.simulated import SimulatedFeed

        world = World.generate(config.demo_flights, config.demo_seed, capture_time=now)
        return SimulatedFeed(world.flights, cap=config.extract.tile_cap, seed=config.demo_seed)
    raise ConfigError(f"source {name!r} is not read through a feed")


def close_feed(feed: Any) -> None:
    """Release what a feed holds (HTTP clients), when it has anything to release."""
    close = getattr(feed, "close", None)
    if callable(close):
        close()
