"""The extraction statistics of one run: what the capture cost and gave, the manifest's `extraction` entry."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ExtractionStats:
    """Every figure extraction records, in the order the manifest's `extraction` entry lists them.

    Fields left at None belong to another kind of source and are not written: a snapshot has no tiles, a feed no
    snapshot file, and only the official API reports its usage.
    """

    source: str  # the source that served the run
    sources: dict[str, Any]  # the failover record: {order, served, attempts: [{source, outcome, reason, ...}]}

    # Snapshot replays (etl.extract.sources.snapshot): the file, its format, and how its columns were read.
    snapshot_path: str | None = None
    snapshot_format: str | None = None  # csv | json | parquet
    snapshot_missing_optional: list[str] | None = None  # optional raw columns the capture lacks
    snapshot_ignored_columns: list[str] | None = None  # the capture's columns with no raw column
    snapshot_renamed_columns: dict[str, str] | None = None  # capture's name -> FlightRadarAPI name

    # Tiled sources (etl.extract.tiling).
    start_tiles: int | None = None  # tiles of the plan the capture started from
    tiles: int | None = None  # tiles fetched, split pieces included
    split_tiles: int | None = None  # tiles that came back at the cap and were cut
    requests: int | None = None
    retries: int | None = None  # further attempts after the first, over every tile
    blocked_answers: int | None = None  # 403 / 429 / Cloudflare challenge answers
    rate_limit_wait_s: float | None = None  # time the request-rate ceiling held requests back
    max_requests_per_s: float | None = None
    failed_tiles: list[str] | None = None  # "south,north,west,east" labels of the tiles that still failed
    failed_tile_share: float | None = None
    failed_tile_errors: dict[str, str] | None = None  # tile label -> its last error
    capped_min_tiles: list[str] | None = None  # tiles still at the cap at min_tile_deg
    # Every source.
    flights_received: int  # rows before de-duplication by flight id
    duplicates_removed: int
    # Tiled sources, continued.
    tile_cap: int | None = None
    concurrency: int | None = None
    fetch_wall_s: float | None = None
    # The tile plan (etl.extract.plan.TilePlan).
    plan_source: str | None = None  # "prior slot <slot>", "cold start" or "cold start (grid)"
    tiles_planned: int | None = None
    plan_target_per_tile: float | None = None
    plan_prior_flights: int | None = None
    # The official API only: {requests, flights_returned, errors_by_status, limit}.
    api_usage: dict[str, Any] | None = None

    # Every run: the landed capture and its freshness (etl.extract.health).
    rows: int  # flights written, after de-duplication
    stale_rows: int
    stale_share: float
    undated_rows: int
    capture_time: str  # ISO UTC: the newest position time, or the clock when no row is dated
    capture_time_from: str  # "data" or "clock"
    capture_lag_s: float  # the clock minus capture_time
    density_file: str  # where the next capture finds this one's density; "" if none
    airports: dict[str, Any]  # the reference snapshot landed: {source, rows[, errors]}
    airlines: dict[str, Any]
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the manifest's `extraction` entry: the fields that apply to this run's source."""
        return {name: value for name, value in asdict(self).items() if value is not None}
