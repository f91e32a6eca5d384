"""The tile plan: where to cut the world so each request holds about 80 % of the feed's cap.

A capture ends by writing a small density file (flights per cell of `cell_deg` degrees) beside its raw partition
(raw/flights/_plan/<partitions>/density.json).
The next capture reads the newest earlier one and splits the world rectangle k-d style (a cut through the longer
side of a box, at the cell edge that leaves each half a whole number of target loads) until every tile holds at most
`fill * cap` flights once the prior's counts are grown by `growth`: traffic moves and grows between slots. With no
prior, FR24's own zones (the boxes FlightRadarAPI's `get_zones()` returns) stand in for the density.

Every plan is an exact cover of the globe: each cut divides one box into two that share the cut line, so every point
of lat -90..90, lon -180..180 (both 180 meridians and both poles included) lies in exactly one tile's interior or
on an edge tiles share. No tile crosses the antimeridian: the world rectangle's west and east edges are -180 and 180.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from etl.core.layout import RAW_FLIGHTS, RunSlot, join
from etl.core.storage import Storage
from etl.extract.feed import Bounds

log = logging.getLogger(__name__)

# Beside raw, not in it: Athena reads every file of a partition's folder, so the density lives under a '_plan' prefix
# no partition template reaches (and that Spark and Hive listings skip): raw/flights/_plan/<partitions>/density.json.
PLAN_DIR = "_plan"
DENSITY_FILE = "density.json"
DENSITY_VERSION = 1


@dataclass(frozen=True)
class Density:
    """Flights per cell of `cell_deg` degrees: {(row, col): count}, row 0 at lat -90, col 0 at lon -180."""

    cell_deg: float
    cells: Mapping[tuple[int, int], float]
    flights: int = 0  # positions counted
    slot: str = ""  # the run slot of the capture it describes
    capture_time: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """The sum of every cell."""
        return float(sum(self.cells.values()))

    def to_json(self) -> bytes:
        """The density file: one JSON object, cells as [row, col, count] sorted by row then column."""
        body = {
            "version": DENSITY_VERSION,
            "slot": self.slot,
            "capture_time": self.capture_time,
            "cell_deg": self.cell_deg,
            "flights": self.flights,
            "cells": [[r, c, n] for (r, c), n in sorted(self.cells.items())],
            **self.extra,
        }
        return json.dumps(body, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Density:
        """Parse a density file; raises ValueError naming what is wrong."""
        try:
            body = json.loads(data)
            if body.get("version") != DENSITY_VERSION:
                raise ValueError(f"density file version {body.get('version')!r} is not {DENSITY_VERSION}")
            cell_deg = float(body["cell_deg"])
            if not 0 < cell_deg <= 90:
                raise ValueError(f"density cell_deg {cell_deg} is not in (0, 90]")
            cells = {(int(r), int(c)): float(n) for r, c, n in body["cells"]}
            return cls(cell_deg, cells, int(body.get("flights", 0)), body.get("slot", ""), body.get("capture_time", ""))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"density file is malformed: {exc}") from None


def density_of(positions: Iterable[tuple[float, float]], cell_deg: float = 0.5, **meta: Any) -> Density:
    """Count (latitude, longitude) positions per cell; positions out of range or not numbers are left out."""
    rows, cols = _grid_size(cell_deg)
    cells: dict[tuple[int, int], float] = {}
    counted = 0
    for lat, lon in positions:
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # NaN fails both tests too
            continue
        key = (min(int((lat + 90.0) // cell_deg), rows - 1), min(int((lon + 180.0) // cell_deg), cols - 1))
        cells[key] = cells.get(key, 0.0) + 1.0
        counted += 1
    return Density(cell_deg, cells, counted, **meta)


def density_of_rows(rows: Iterable[Mapping[str, str]], cell_deg: float = 0.5, **meta: Any) -> Density:
    """The density of raw flight rows (latitude/longitude as text; unparseable ones are left out)."""

    def positions() -> Iterable[tuple[float, float]]:
        for row in rows:
            try:
                yield float(row["latitude"]), float(row["longitude"])
            except (KeyError, TypeError, ValueError):
                continue

    return density_of(positions(), cell_deg, **meta)


def _grid_size(cell_deg: float) -> tuple[int, int]:
    return math.ceil(180.0 / cell_deg - 1e-9), math.ceil(360.0 / cell_deg - 1e-9)


@dataclass(frozen=True)
class TilePlan:
    """The tiles to request first, and where the plan came from (for the manifest)."""

    tiles: list[Bounds]
    source: str  # "prior slot 2026-11-22T12" | "cold start"
    target: float  # flights a tile should hold at most, growth included
    prior_flights: int = 0

    def stats(self) -> dict[str, Any]:
        """JSON-ready figures for the manifest."""
        return {
            "plan_source": self.source,
            "tiles_planned": len(self.tiles),
            "plan_target_per_tile": round(self.target, 1),
            "plan_prior_flights": self.prior_flights,
        }


def plan_tiles(density: Density, target: float, *, growth: float = 0.0) -> list[Bounds]:
    """Cut the world k-d style into tiles holding at most `target` of the density grown by `growth`.

    Cuts fall on cell edges, so a tile is never cut below one cell; a cell alone above the target stays one tile
    (the extractor's split-at-cap takes it from there). A box with k target loads is cut so that one side holds
    floor(k/2) loads and the other the rest, which keeps the number of tiles close to ceil(total / target).
    """
    if target <= 0:
        raise ValueError("target must be > 0")
    rows, cols = _grid_size(density.cell_deg)
    scale = 1.0 + growth
    cells = [(r, c, n * scale) for (r, c), n in density.cells.items() if 0 <= r < rows and 0 <= c < cols and n > 0]
    boxes: list[tuple[int, int, int, int]] = []
    _split(cells, (0, rows, 0, cols), target, density.cell_deg, boxes)
    return sorted(_to_bounds(box, density.cell_deg, rows, cols) for box in boxes)


def _split(
    cells: list[tuple[int, int, float]],
    box: tuple[int, int, int, int],
    target: float,
    step: float,
    out: list[tuple[int, int, int, int]],
) -> None:
    """Boxes are cell index ranges [r0, r1) x [c0, c1); cells are (row, col, load) inside the box."""
    r0, r1, c0, c1 = box
    total = sum(n for _, _, n in cells)
    if total <= target:
        out.append(box)
        return
    loads = math.ceil(total / target - 1e-9)
    wanted = total * (loads // 2) / loads
    # The longer side first, longitude shrunk by the cosine of the box's middle latitude so tiles stay squarish on
    # the ground; the other side when the load sits in one row or column.
    middle = math.radians(-90.0 + (r0 + r1) / 2 * step)
    axes = (1, 0) if (c1 - c0) * math.cos(middle) >= (r1 - r0) else (0, 1)
    for axis in axes:
        lo, hi = (c0, c1) if axis else (r0, r1)
        cut = _cut(cells, axis, lo, hi, wanted)
        if cut is None:
            continue
        first = [cell for cell in cells if cell[axis] < cut]
        second = [cell for cell in cells if cell[axis] >= cut]
        halves = ((r0, r1, c0, cut), (r0, r1, cut, c1)) if axis else ((r0, cut, c0, c1), (cut, r1, c0, c1))
        _split(first, halves[0], target, step, out)
        _split(second, halves[1], target, step, out)
        return
    out.append(box)  # all the load in one cell: it cannot be cut on cell edges


def _cut(cells: list[tuple[int, int, float]], axis: int, lo: int, hi: int, wanted: float) -> int | None:
    """The cell edge in (lo, hi) along `axis` whose load before it is nearest `wanted`; None if all sit in one line."""
    per_line: dict[int, float] = {}
    for cell in cells:
        line = int(cell[axis])
        per_line[line] = per_line.get(line, 0.0) + cell[2]
    lines = sorted(per_line)
    if len(lines) < 2:
        return None
    best: tuple[float, int] | None = None
    running = 0.0
    for previous, line in itertools.pairwise(lines):
        running += per_line[previous]
        # Any edge between two loaded lines splits the load the same way: take the middle one, so moved traffic
        # has room on both sides.
        edge = (previous + 1 + line) // 2
        edge = max(previous + 1, min(line, edge))
        if not lo < edge < hi:
            continue
        score = abs(running - wanted)
        if best is None or score < best[0]:
            best = (score, edge)
    return None if best is None else best[1]


def _to_bounds(box: tuple[int, int, int, int], step: float, rows: int, cols: int) -> Bounds:
    r0, r1, c0, c1 = box

    def lat(i: int) -> float:
        return 90.0 if i >= rows else round(-90.0 + i * step, 6)

    def lon(i: int) -> float:
        return 180.0 if i >= cols else round(-180.0 + i * step, 6)

    return Bounds(lat(r0), lat(r1), lon(c0), lon(c1))


# Cold start. FR24 cuts its own map into zones, and busier areas into nested subzones (Europe > UK > London); the
# nesting depth is the only density the package ships. Each level is taken as ZONE_DENSITY_RATIO times the traffic
# per square degree of the level above it (open ocean 1, a zone 3, a subzone 9, London 27); areas no zone covers keep
# the base density, so the k-d cut lays a coarse grid over them. The cold plan is deliberately small (it assumes
# ExtractSettings.cold_start_flights): its capped tiles are cut where their answers show the traffic (split_capped),
# which costs fewer requests than guessing finer from zones alone. Ratio 3 and 10,000 flights gave the lowest
# worst-case ratio to the lower bound over 10,000- to 80,000-flight simulated worlds (2.6-2.9x) among ratios 1.5, 2
# and 3 with 10,000 or 20,000 assumed flights; finer cold plans (20,000-40,000 flights, ratios up to 6) cost more.
ZONE_DENSITY_RATIO = 3.0
COLD_CELL_DEG = 1.0


@lru_cache(maxsize=1)
def fr24_zones() -> tuple[tuple[str, int, Bounds], ...]:
    """(name, nesting depth from 1, box) of every zone and subzone FlightRadarAPI's `get_zones()` returns."""
    from FlightRadarAPI import FlightRadar24API

    found: list[tuple[str, int, Bounds]] = []

    def walk(zones: Mapping[str, Any], depth: int) -> None:
        for name, zone in zones.items():
            if not isinstance(zone, Mapping) or not {"tl_y", "tl_x", "br_y", "br_x"} <= set(zone):
                continue
            south, north = sorted((_clamp(zone["br_y"], 90.0), _clamp(zone["tl_y"], 90.0)))
            west, east = sorted((_clamp(zone["tl_x"], 180.0), _clamp(zone["br_x"], 180.0)))
            found.append((name, depth, Bounds(south, north, west, east)))
            walk(zone.get("subzones") or {}, depth + 1)

    # get_zones() reads the table the package ships; no request is made.
    walk(FlightRadar24API().get_zones(), 1)
    return tuple(found)


def _clamp(value: Any, limit: float) -> float:
    return max(-limit, min(limit, float(value)))


def cold_density(flights: float, cell_deg: float = COLD_CELL_DEG) -> Density:
    """A density of `flights` spread by FR24's zones: each cell weighs ZONE_DENSITY_RATIO ** (zones over it)."""
    rows, cols = _grid_size(cell_deg)
    zones = fr24_zones()
    weights: dict[tuple[int, int], float] = {}
    for r in range(rows):
        lat = -90.0 + (r + 0.5) * cell_deg
        area = math.cos(math.radians(lat))  # a cell's share of the globe's surface
        for c in range(cols):
            lon = -180.0 + (c + 0.5) * cell_deg
            depth = sum(1 for _, _, box in zones if box.contains(lat, lon))
            weights[(r, c)] = area * ZONE_DENSITY_RATIO**depth
    scale = flights / sum(weights.values())
    return Density(cell_deg, {key: w * scale for key, w in weights.items()}, 0)


@dataclass(frozen=True)
class Prior:
    """A previous capture's density and the slot it came from."""

    slot: RunSlot
    density: Density
    path: str


def density_path(root: str, slot: RunSlot) -> str:
    """Where a slot's density file lives: raw/flights/_plan/<the slot's partitions>/density.json."""
    return join(root, RAW_FLIGHTS, PLAN_DIR, slot.partition_path, DENSITY_FILE)


def find_prior(storage: Storage, root: str, slot: RunSlot, max_age_h: int) -> Prior | None:
    """The density of the newest capture before `slot`, at most `max_age_h` hours earlier; None if there is none.

    The density file is written only after its capture passed the source-health gate and its raw partition landed,
    so it is the mark of a successful capture. A file that cannot be read is logged and skipped for an older one.
    """
    for hours in range(1, max_age_h + 1):
        earlier = RunSlot(slot.start - timedelta(hours=hours))
        path = density_path(root, earlier)
        if not storage.exists(path):
            continue
        try:
            return Prior(earlier, Density.from_json(storage.read_bytes(path)), path)
        except (OSError, ValueError) as exc:
            log.warning("density file %s cannot be used (%s); looking further back", path, exc)
    return None


START_TILE_DEG = 30.0  # 6 x 12 starting tiles: few requests for empty oceans, few split rounds for busy areas


def world_grid(step_deg: float = START_TILE_DEG) -> list[Bounds]:
    """A grid of tiles covering the whole globe, latitude -90..90 and longitude -180..180 (180.0 included)."""
    if not 0 < step_deg <= 180:
        raise ValueError("step_deg must be in (0, 180]")
    lats = _edges(-90.0, 90.0, step_deg)
    lons = _edges(-180.0, 180.0, step_deg)
    return [Bounds(s, n, w, e) for s, n in itertools.pairwise(lats) for w, e in itertools.pairwise(lons)]


def _edges(start: float, stop: float, step: float) -> list[float]:
    edges = [start]
    while edges[-1] + step < stop - 1e-9:
        edges.append(start + step * len(edges))
    edges.append(stop)
    return edges


def make_plan(
    prior: Prior | None, *, cap: int, fill: float, growth: float, cold_flights: int, cold_start: str = "zones"
) -> TilePlan:
    """The first tiles of a capture: from the prior's density when there is one, else the cold start.

    cold_start 'zones' plans from FR24's zones (cold_density); 'grid' is the 30-degree grid of 72 tiles.
    """
    target = fill * cap
    if prior is not None:
        tiles = plan_tiles(prior.density, target, growth=growth)
        return TilePlan(tiles, f"prior slot {prior.slot}", target, prior.density.flights)
    if cold_start == "grid":
        return TilePlan(world_grid(), "cold start (grid)", target)
    return TilePlan(plan_tiles(cold_density(cold_flights), target), "cold start", target)


def split_capped(
    bounds: Bounds, flights: Iterable[Mapping[str, str]], *, parts: int = 4, min_deg: float = 0.25
) -> list[Bounds]:
    """Cut a tile that came back at the cap into up to `parts` tiles with about equal shares of what it returned.

    The answer of a capped tile is a sample of its traffic (biased to some flights, but spread where the traffic
    is): cutting between its median positions rather than at the box's middle sends the next requests where the
    flights are. Cuts are rounded to 0.01 degree and leave every side at least `min_deg` wide; with no usable
    positions a box is halved. The pieces share their cut edges, so they cover the tile exactly.
    """
    points = []
    for row in flights:
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except (KeyError, TypeError, ValueError):
            continue
        if bounds.contains(lat, lon):
            points.append((lat, lon))
    return _median_split(bounds, points, parts, min_deg)


def _median_split(bounds: Bounds, points: list[tuple[float, float]], parts: int, min_deg: float) -> list[Bounds]:
    sides = {True: bounds.width * math.cos(math.radians((bounds.south + bounds.north) / 2)), False: bounds.height}
    usable = [by_lon for by_lon in (True, False) if (bounds.width if by_lon else bounds.height) >= 2 * min_deg]
    if parts <= 1 or not usable:
        return [bounds]
    by_lon = max(usable, key=lambda axis: sides[axis])
    lo, hi = (bounds.west, bounds.east) if by_lon else (bounds.south, bounds.north)
    values = sorted(p[1] if by_lon else p[0] for p in points)
    first = parts // 2
    k = len(values) * first // parts
    cut = round((values[k - 1] + values[k]) / 2, 2) if 0 < k < len(values) else (lo + hi) / 2
    cut = min(max(cut, lo + min_deg), hi - min_deg)
    if by_lon:
        a, b = Bounds(bounds.south, bounds.north, lo, cut), Bounds(bounds.south, bounds.north, cut, hi)
    else:
        a, b = Bounds(lo, cut, bounds.west, bounds.east), Bounds(cut, hi, bounds.west, bounds.east)
    axis = 1 if by_lon else 0
    below = [p for p in points if p[axis] < cut]
    above = [p for p in points if p[axis] >= cut]
    return _median_split(a, below, first, min_deg) + _median_split(b, above, parts - first, min_deg)
