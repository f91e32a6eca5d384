"""Extract one run slot: fetch (demo, live or snapshot), gate on source health, land raw/ atomically."""

from __future__ import annotations

import csv
import io
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from etl.columns import RAW_COLUMNS
from etl.config import JobConfig
from etl.extract.feed import Feed
from etl.extract.health import check_source_health
from etl.extract.plan import TilePlan, density_of_rows, density_path, find_prior, make_plan
from etl.extract.reference import AIRLINE_COLUMNS, AIRPORT_COLUMNS, airportsdata_airports, land_reference
from etl.extract.snapshot import read_snapshot
from etl.extract.tiling import deduplicate_rows, extract_world, iso_utc
from etl.layout import join, raw_flights_dir, raw_flights_file
from etl.storage import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawLanding:
    """What extraction wrote for a run slot."""

    raw_flights_path: str  # the CSV file written (layout.raw_flights_file)
    airports_path: str  # reference CSV used for this run
    airlines_path: str
    rows: int  # flights written (after de-duplication by id)
    capture_time: datetime  # tz-aware UTC: the newest position time in the capture
    stats: dict[str, Any]  # JSON-ready, for the run manifest's "extraction" entry


def raw_csv(rows: list[dict[str, str]]) -> bytes:
    """Raw flights as CSV (RFC 4180 quoting, \\n line ends, UTF-8) with the RAW_COLUMNS header, every value as text."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(RAW_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _feed_for(config: JobConfig, now: datetime) -> Feed:
    if config.source == "live":
        from etl.extract.fr24 import FlightRadarFeed

        return FlightRadarFeed(timeout_s=config.extract.timeout_s, feed_url=config.feed_url)
    from etl.simulate.feed import SimulatedFeed
    from etl.simulate.world import World

    world = World.generate(config.demo_flights, config.demo_seed, capture_time=now)
    return SimulatedFeed(world.flights, cap=config.extract.tile_cap, seed=config.demo_seed)


def extract_to_raw(
    config: JobConfig, storage: Storage, *, feed: Feed | None = None, now: datetime | None = None
) -> RawLanding:
    """Fetch the slot's capture, apply the source-health gate, then land raw flights and reference snapshots.

    config.source: 'demo' serves a simulated world (config.demo_flights flights, seed config.demo_seed, captured
    at `now`, no latency) through the tiled extractor; 'live' tiles FlightRadarAPI; 'snapshot' reads
    config.snapshot_path. `feed` replaces the demo/live feed (tests); `now` fixes the wall clock (default: now).
    Raises SourceHealthError or SnapshotFormatError, with a one-line message, before anything is written.
    The slot's raw partition is staged then swapped in with storage.replace_tree, so it holds the old or the new
    file, never a mix, and other slots are untouched.

    stats keys: source; tiles, start_tiles, split_tiles, requests, retries (further attempts after the first),
    failed_tiles ("south,north,west,east" labels), failed_tile_share, failed_tile_errors, capped_min_tiles
    (tiles still at the cap at min_tile_deg), flights_received (rows before de-duplication), duplicates_removed,
    rows, stale_rows, stale_share, undated_rows, capture_time (ISO UTC), capture_lag_s (now - capture_time),
    tile_cap, concurrency, blocked_answers (403/429/challenge answers), rate_limit_wait_s, max_requests_per_s,
    plan_source ("prior slot <slot>", "cold start" or "cold start (grid)"), tiles_planned, plan_target_per_tile,
    plan_prior_flights, density_file (where the next capture finds this one's density; '' if none),
    snapshot_* (snapshot runs: path, format, missing_optional, ignored_columns),
    airports / airlines ({source, rows}), fetch_wall_s, wall_s.
    """
    started = time.perf_counter()
    config.validate()
    clock_now = now or datetime.now(timezone.utc)
    if clock_now.tzinfo is None:
        clock_now = clock_now.replace(tzinfo=timezone.utc)
    root, slot = config.data_root, config.run_slot
    stats: dict[str, Any] = {"source": config.source}
    used_feed: Feed | None = None

    if config.source == "snapshot":
        assert config.snapshot_path is not None  # validate() guarantees it
        snap = read_snapshot(config.snapshot_path, storage)
        rows, received = deduplicate_rows(snap.rows)
        stats.update(
            snapshot_path=snap.path,
            snapshot_format=snap.format,
            snapshot_missing_optional=snap.missing_optional,
            snapshot_ignored_columns=snap.ignored_columns,
            flights_received=received,
            duplicates_removed=received - len(rows),
        )
    else:
        used_feed = feed if feed is not None else _feed_for(config, clock_now)
        clock = (lambda: datetime.now(timezone.utc)) if now is None else (lambda: clock_now)
        # Seeded backoff jitter only for the demo, whose runs should repeat exactly; live retries stay random.
        jitter_seed = config.demo_seed if config.source == "demo" else None
        plan = _plan(config, storage)
        # The request ceiling is politeness towards a remote source; the simulated world is in this process.
        settings = config.extract if config.source == "live" else replace(config.extract, max_requests_per_s=0)
        capture = extract_world(used_feed, settings, start_tiles=plan.tiles, clock=clock, seed=jitter_seed)
        rows = capture.rows
        stats.update(capture.stats)
        stats.update(plan.stats())

    freshness = check_source_health(rows, stats, config.extract, source=config.source, now=clock_now)
    capture_time = freshness.capture_time or clock_now  # no dated row at all: the clock is all there is
    stats.update(
        rows=len(rows),
        stale_rows=freshness.stale_rows,
        stale_share=round(freshness.stale_share, 6),
        undated_rows=freshness.undated_rows,
        capture_time=iso_utc(capture_time),
        capture_time_from="data" if freshness.capture_time else "clock",
        capture_lag_s=round((clock_now - capture_time).total_seconds(), 3),
    )

    raw_path = _land_flights(storage, root, slot, rows)
    stats["density_file"] = _write_density(config, storage, rows, capture_time)

    day = slot.partition_values["tech_day"]
    airport_sources: list[tuple[str, Any]] = []
    airline_sources: list[tuple[str, Any]] = []
    if config.source == "live" and used_feed is not None:
        airport_sources.append(("fr24", used_feed.fetch_airports))
        airline_sources.append(("fr24", used_feed.fetch_airlines))
    airport_sources.append(("airportsdata", airportsdata_airports))
    if config.source != "live" and used_feed is not None:
        airline_sources.append(("simulator", used_feed.fetch_airlines))
    airline_sources.append(("none", list))
    airports_path, stats["airports"] = land_reference(storage, root, "airports", day, airport_sources, AIRPORT_COLUMNS)
    airlines_path, stats["airlines"] = land_reference(storage, root, "airlines", day, airline_sources, AIRLINE_COLUMNS)

    stats["wall_s"] = round(time.perf_counter() - started, 3)
    log.info("extracted %d flights for slot %s into %s", len(rows), slot, raw_path)
    return RawLanding(raw_path, airports_path, airlines_path, len(rows), capture_time, stats)


def _plan(config: JobConfig, storage: Storage) -> TilePlan:
    """The first tiles of this capture: planned from the newest earlier capture's density, or the cold start."""
    x = config.extract
    prior = find_prior(storage, config.data_root, config.run_slot, x.plan_max_age_h)
    plan = make_plan(
        prior,
        cap=x.tile_cap,
        fill=x.plan_fill,
        growth=x.plan_growth,
        cold_flights=x.cold_start_flights,
        cold_start=x.cold_start,
    )
    log.info("tile plan: %s, %d tiles", plan.source, len(plan.tiles))
    return plan


def _write_density(config: JobConfig, storage: Storage, rows: list[dict[str, str]], capture_time: datetime) -> str:
    """The density the next capture plans from, written once raw has landed; '' when there is none to write.

    Only feed captures plan the next one: a replayed snapshot may be of any age and coverage, so it removes the
    slot's density instead. A failed write costs the next run its warm plan, not this run its data: logged only.
    """
    path = density_path(config.data_root, config.run_slot)
    try:
        if config.source == "snapshot":
            storage.delete_tree(path.rsplit("/", 1)[0])
            return ""
        density = density_of_rows(
            rows, config.extract.plan_cell_deg, slot=str(config.run_slot), capture_time=iso_utc(capture_time)
        )
        storage.write_bytes(path, density.to_json())
        return path
    except Exception as exc:  # local OSError or an S3 client error alike: the run's data is already safe
        log.warning("density file %s not written (%s): the next capture will plan cold", path, exc)
        return ""


def _land_flights(storage: Storage, root: str, slot: Any, rows: list[dict[str, str]]) -> str:
    """Write the slot's one raw file into a staging folder, then swap the whole partition in."""
    final_file = raw_flights_file(root, slot)
    final_dir = raw_flights_dir(root, slot)
    # Under raw/flights but '_'-prefixed: Spark and Hive-style readers skip it, and it shares the filesystem
    # with the partition so the local swap is a rename.
    staging = join(root, "raw/flights", f"_staging-{uuid.uuid4().hex}")
    try:
        storage.write_bytes(join(staging, final_file.rsplit("/", 1)[1]), raw_csv(rows))
        storage.replace_tree(staging, final_dir)
    finally:
        storage.delete_tree(staging)
    return final_file
