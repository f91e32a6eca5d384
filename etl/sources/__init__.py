"""Where a run's flights come from: each source a peer module, declared by one entry of etl.source_registry.

    flightradarapi  FlightRadarAPI's web feed (the default live source)        etl.sources.flightradarapi
    fr24api         the official Flightradar24 API through fr24sdk, with a token etl.sources.fr24api
    demo            a simulated world served like the web feed (etl.simulate)  etl.sources.simulated
    snapshot        a recorded capture (CSV, JSON or Parquet), read whole       etl.sources.snapshot

The tiled ones sit behind the feed interface the tiled extractor reads (etl.extract.feed.Feed); a snapshot is one
file read at once. This package sits beside etl/extract rather than under it so that the extractor (tiling, plan,
health gate, landing) knows sources by name only: it asks `feed_for(name, ...)` or `capture_for(name, ...)` and never
imports the simulator, the SDKs or their HTTP clients itself. Each source module is imported when its source is
used (the registry names its factory), so a run pays only for the one it reads, and nothing here imports
etl.extract at import time (etl.extract's landing imports this package).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.config import ConfigError, ExtractSettings, JobConfig
from etl.source_registry import source

if TYPE_CHECKING:
    from etl.extract.feed import Feed
    from etl.sources.snapshot import Snapshot
    from etl.storage import Storage


def extract_settings_for(name: str, config: JobConfig) -> ExtractSettings:
    """The tiler's settings for a source: its own tile cap when it has one (the official API's is fr24api_limit)."""
    cap_key = source(name).cap_key
    if cap_key is None:
        return config.extract
    return replace(config.extract, tile_cap=getattr(config, cap_key))


def feed_for(name: str, config: JobConfig, now: datetime) -> Feed:
    """The feed a tiled source is read through (the demo's simulated world is captured at `now`)."""
    spec = source(name)
    if not spec.tiled:
        raise ConfigError(f"source {name!r} is not read through a feed")
    feed: Feed = spec.load()(config, now)
    return feed


def capture_for(name: str, config: JobConfig, storage: Storage) -> Snapshot:
    """The capture of a source read whole (a recording), through `storage`."""
    spec = source(name)
    if spec.tiled:
        raise ConfigError(f"source {name!r} is read through a feed, not whole")
    capture: Snapshot = spec.load()(config, storage)
    return capture


def close_feed(feed: Any) -> None:
    """Release what a feed holds (HTTP clients), when it has anything to release."""
    close = getattr(feed, "close", None)
    if callable(close):
        close()
