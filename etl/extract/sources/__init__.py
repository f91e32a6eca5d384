"""Where a run's flights come from: each source a peer module, declared by one entry of etl.core.source_registry.

    flightradarapi  FlightRadarAPI's web feed (the default live source)           .flightradarapi
    fr24api         the official Flightradar24 API through fr24sdk, with a token   .fr24api
    demo            a simulated world served like the web feed (etl.extract.simulate)  .simulated
    snapshot        a recorded capture (CSV, JSON or Parquet), read whole          .snapshot

The tiled ones sit behind the feed interface the tiled extractor reads (etl.extract.feed.Feed); a snapshot is one
file read at once. The rest of the extractor (tiling, plan, health gate) knows sources by name only: landing asks
`feed_for(name, ...)` or `capture_for(name, ...)`, and nothing else imports the simulator, the SDKs or their HTTP
clients (the `extraction-layers` import contract; tests/etl/extract/test_failover.py). Each source module is imported
when its source is used (the registry names its factory), so a run pays only for the one it reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.core.config import ConfigError, ExtractSettings, JobConfig
from etl.core.source_registry import source

if TYPE_CHECKING:
    from etl.core.storage import Storage
    from etl.extract.feed import Feed
    from etl.extract.sources.snapshot import Snapshot


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
