"""Extract one run slot: fetch from the first usable source, gate on source health, land raw/ atomically."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from etl.core.airports import airportsdata_airports
from etl.core.columns import RAW_AIRLINE_COLUMNS, RAW_AIRPORT_COLUMNS, RAW_COLUMNS
from etl.core.config import ExtractSettings, JobConfig
from etl.core.errors import SourceHealthError
from etl.core.layout import raw_flights_file
from etl.core.source_registry import source
from etl.core.storage import Storage
from etl.extract.failover import run_with_failover
from etl.extract.feed import Feed
from etl.extract.health import Freshness, check_source_health
from etl.extract.plan import TilePlan, density_of_rows, density_path, find_prior, make_plan
from etl.extract.reference import completed_with_airportsdata, land_reference
from etl.extract.sources import capture_for, close_feed, extract_settings_for, feed_for
from etl.extract.stats import ExtractionStats
from etl.extract.tiling import deduplicate_rows, extract_world, iso_utc
from etl.publication.manifest import new_run_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawLanding:
    """What extraction wrote for a run slot."""

    raw_flights_path: str  # the CSV file written (layout.raw_flights_file)
    airports_path: str  # reference CSV used for this run
    airlines_path: str
    rows: int  # flights written (after de-duplication by id)
    capture_time: datetime  # tz-aware UTC: the newest position time in the capture
    stats: ExtractionStats  # the run manifest's "extraction" entry is stats.to_dict()
    raw_columns: tuple[str, ...] = RAW_COLUMNS  # the raw file's header, as raw_csv writes it


def raw_csv(rows: list[dict[str, str]]) -> bytes:
    """Raw flights as CSV (RFC 4180 quoting, \\n line ends, UTF-8) with the RAW_COLUMNS header, every value as text."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(RAW_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _feed_for(name: str, config: JobConfig, now: datetime, feed: Feed | Mapping[str, Feed] | None) -> tuple[Feed, bool]:
    """The injected feed (tests) for this source, else the one etl.extract.sources.feed_for builds; True when built
    here."""
    if isinstance(feed, Mapping):
        if name in feed:
            return feed[name], False
    elif feed is not None:
        return feed, False
    return feed_for(name, config, now), True


@dataclass
class _Capture:
    rows: list[dict[str, str]]
    stats: dict[str, Any]  # the source's own figures, named as ExtractionStats fields
    freshness: Freshness
    feed: Feed | None
    owned: bool  # built here, so closed here


def extract_to_raw(
    config: JobConfig,
    storage: Storage,
    *,
    feed: Feed | Mapping[str, Feed] | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
) -> RawLanding:
    """Fetch the slot's capture from the first usable source, then land raw flights and reference snapshots.

    Sources are tried in config.source_order(), each as etl.core.source_registry declares it: 'demo' serves a simulated
    world (config.demo_flights flights, seed config.demo_seed, captured at `now`, no latency) through the tiled
    extractor; 'flightradarapi' (alias 'live') tiles FlightRadarAPI's web feed; 'fr24api' tiles the official API with
    its own cap (fr24api_limit); 'snapshot' reads config.snapshot_path whole. A source the source-health gate finds
    unusable hands over to the next one.
    `feed` replaces the feed of every tiled source, or of the sources a mapping names (tests); `now` fixes the wall
    clock (default: now). Raises SourceHealthError, SourceUnavailableError or SnapshotFormatError, with a one-line
    message, before anything is written. The capture lands as `raw/flights/<partitions>/<run_id>.csv` (one atomic
    write; `run_id` defaults to a new one), beside the slot's earlier captures and never over them: the slot's raw
    is the file its published run names. The figures it records are the ExtractionStats fields (etl.extract.stats).
    """
    started = time.perf_counter()
    config.validate()
    clock_now = now or datetime.now(timezone.utc)
    if clock_now.tzinfo is None:
        clock_now = clock_now.replace(tzinfo=timezone.utc)
    root, slot = config.data_root, config.run_slot

    def capture_from(name: str) -> tuple[_Capture, dict[str, Any]]:
        capture = _capture(name, config, storage, feed, now, clock_now)
        return capture, _figures(capture.stats)

    failover = run_with_failover(config.source_order(), capture_from)
    name, capture = failover.served, failover.result
    rows, freshness, used_feed = capture.rows, capture.freshness, capture.feed
    capture_time = freshness.capture_time or clock_now  # no dated row at all: the clock is all there is

    try:
        raw_path = _land_flights(storage, raw_flights_file(root, slot, run_id or new_run_id(slot, clock_now)), rows)
        density_file = _write_density(name, config, storage, rows, capture_time)

        day = slot.partition_values["tech_day"]
        served = source(name)
        airport_sources: list[tuple[str, Any]] = []
        airline_sources: list[tuple[str, Any]] = []
        if served.feed_airports and used_feed is not None:
            # The feed's list knows its own codes; airportsdata completes it with the IATA codes it lacks.
            airport_sources.append((served.feed_airports, completed_with_airportsdata(used_feed.fetch_airports)))
        if served.feed_airlines and used_feed is not None:
            airline_sources.append((served.feed_airlines, used_feed.fetch_airlines))
        airport_sources.append(("airportsdata", airportsdata_airports))
        # A source that lists none (fr24api: the official API lists no airports or airlines in bulk, one paid
        # request per code; a snapshot) takes airportsdata's airports and the project's airline table.
        airline_sources.append(("none", list))
        airports_path, airports = land_reference(storage, root, "airports", day, airport_sources, RAW_AIRPORT_COLUMNS)
        airlines_path, airlines = land_reference(storage, root, "airlines", day, airline_sources, RAW_AIRLINE_COLUMNS)
    finally:
        if capture.owned:
            close_feed(used_feed)

    stats = ExtractionStats(
        source=name,
        sources=failover.stats(),
        **capture.stats,  # the source's own figures: tiling and plan, or the snapshot's
        rows=len(rows),
        stale_rows=freshness.stale_rows,
        stale_share=round(freshness.stale_share, 6),
        undated_rows=freshness.undated_rows,
        capture_time=iso_utc(capture_time),
        capture_time_from="data" if freshness.capture_time else "clock",
        capture_lag_s=round((clock_now - capture_time).total_seconds(), 3),
        density_file=density_file,
        airports=airports,
        airlines=airlines,
        wall_s=round(time.perf_counter() - started, 3),
    )
    log.info("extracted %d flights from %s for slot %s into %s", len(rows), name, slot, raw_path)
    return RawLanding(raw_path, airports_path, airlines_path, len(rows), capture_time, stats)


def _capture(
    name: str,
    config: JobConfig,
    storage: Storage,
    feed: Feed | Mapping[str, Feed] | None,
    now: datetime | None,
    clock_now: datetime,
) -> _Capture:
    """One source's capture, passed through the source-health gate; nothing is written."""
    stats: dict[str, Any] = {}
    used_feed: Feed | None = None
    owned = False
    spec = source(name)
    if not spec.tiled:
        snap = capture_for(name, config, storage)
        rows, received = deduplicate_rows(snap.rows)
        stats.update(
            snapshot_path=snap.path,
            snapshot_format=snap.format,
            snapshot_missing_optional=snap.missing_optional,
            snapshot_ignored_columns=snap.ignored_columns,
            snapshot_renamed_columns=snap.renamed_columns,
            flights_received=received,
            duplicates_removed=received - len(rows),
        )
        settings = config.extract
    else:
        used_feed, owned = _feed_for(name, config, clock_now, feed)
        settings = extract_settings_for(name, config)  # each source's own cap: the plan and the splits follow it
        if not spec.remote:  # the request ceiling is politeness towards a remote source; the demo is in-process
            settings = replace(settings, max_requests_per_s=0)
        clock = (lambda: datetime.now(timezone.utc)) if now is None else (lambda: clock_now)
        # Seeded backoff jitter only in-process (the demo), whose runs should repeat exactly; remote ones stay random.
        jitter_seed = None if spec.remote else config.demo_seed
        try:
            plan = _plan(config, storage, settings)
            capture = extract_world(used_feed, settings, start_tiles=plan.tiles, clock=clock, seed=jitter_seed)
        except BaseException:
            if owned:
                close_feed(used_feed)
            raise
        rows = capture.rows
        stats.update(capture.stats)
        stats.update(plan.stats())
        usage = getattr(used_feed, "usage", None)
        if callable(usage):
            stats["api_usage"] = usage()
    try:
        freshness = check_source_health(rows, stats, settings, source=name, now=clock_now)
    except SourceHealthError as exc:
        exc.figures = _figures(stats)  # type: ignore[attr-defined]  # read by run_with_failover for the record
        if owned:
            close_feed(used_feed)
        raise
    return _Capture(rows, stats, freshness, used_feed, owned)


def _figures(stats: dict[str, Any]) -> dict[str, Any]:
    """What one attempt cost and gave, for the failover record."""
    keys = ("tiles", "requests", "failed_tile_share", "flights_received", "api_usage")
    return {k: stats[k] for k in keys if k in stats}


def _plan(config: JobConfig, storage: Storage, x: ExtractSettings) -> TilePlan:
    """The first tiles of this capture: planned from the newest earlier capture's density, or the cold start."""
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


def _write_density(
    name: str, config: JobConfig, storage: Storage, rows: list[dict[str, str]], capture_time: datetime
) -> str:
    """The density the next capture plans from, written once raw has landed; '' when there is none to write.

    Only feed captures plan the next one: a replayed snapshot may be of any age and coverage, so it removes the
    slot's density instead. A failed write costs the next run its warm plan, not this run its data: logged only.
    """
    path = density_path(config.data_root, config.run_slot)
    try:
        if not source(name).tiled:
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


def _land_flights(storage: Storage, path: str, rows: list[dict[str, str]]) -> str:
    """Write the run's capture in one atomic write (a rename locally, one PUT on S3) under its own name."""
    storage.write_bytes(path, raw_csv(rows))
    return path
