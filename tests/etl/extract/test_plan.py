from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from etl.core.layout import RunSlot
from etl.core.storage import LocalStorage
from etl.extract.feed import WORLD, Bounds
from etl.extract.plan import (
    DENSITY_FILE,
    Density,
    cold_density,
    density_of,
    density_of_rows,
    density_path,
    find_prior,
    fr24_zones,
    make_plan,
    plan_tiles,
    split_capped,
)
from etl.extract.simulate.world import World
from tests.etl.extract.helpers import flight

# Points every plan must hold: both poles, both 180 meridians, their corners, the equator and Greenwich.
EDGE_POINTS = [
    (90.0, 180.0),
    (90.0, -180.0),
    (-90.0, 180.0),
    (-90.0, -180.0),
    (0.0, 180.0),
    (0.0, -180.0),
    (90.0, 0.0),
    (-90.0, 0.0),
    (0.0, 0.0),
    (-17.5, 180.0),
]


def assert_exact_cover(tiles: list[Bounds]) -> None:
    """Tiles cover the globe with no overlap: areas add up to 180 x 360 and no two interiors meet."""
    assert sum(t.height * t.width for t in tiles) == pytest.approx(180 * 360)
    for a, b in itertools.combinations(tiles, 2):
        overlap_lat = min(a.north, b.north) - max(a.south, b.south)
        overlap_lon = min(a.east, b.east) - max(a.west, b.west)
        assert overlap_lat <= 1e-9 or overlap_lon <= 1e-9, (a.label, b.label)
    rng = random.Random(5)
    points = EDGE_POINTS + [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(2000)]
    for lat, lon in points:
        assert any(t.contains(lat, lon) for t in tiles), (lat, lon)


def test_hand_worked_plan_cuts_where_the_loads_balance():
    # 30-degree cells. 4 flights at (45, 5), 4 at (45, -85), 2 at (35, 125), 1 at (-33, 151), 1 at (-23, -46);
    # target 4, so 12 flights are 3 loads. By hand: the world is wider than high: cut a longitude. Loads per
    # column from the west: col 3 (lon -90..-60) 4, col 4: 1, col 6: 4, col 10: 2, col 11: 1. One load of 4 lies
    # west of the edge between col 3 and col 4 (lon -60): exactly 1/3 of 12, so the cut is -60 and the west
    # holds 4 (a tile). East of -60: 8 = 2 loads, wanted 4: west of lon 60 holds 5 and east 3 (the best split,
    # |5 - 4| = 1): cut 60. [-60, 60] holds 5, is 120 wide and 180 high, so it is cut at latitude 0 (1 south, 4
    # north). [60, 180] holds 3: a tile.
    positions = [(45, 5)] * 4 + [(45, -85)] * 4 + [(35, 125)] * 2 + [(-33, 151), (-23, -46)]
    density = density_of(positions, cell_deg=30)
    tiles = plan_tiles(density, target=4)
    assert [t.label for t in tiles] == ["-90,0,-60,60", "-90,90,-180,-60", "-90,90,60,180", "0,90,-60,60"]
    assert_exact_cover(tiles)


def test_a_cell_over_the_target_stays_one_tile():
    # 90-degree cells: 1 flight in (0..90, -180..-90), 3 in (0..90, 0..90); target 2. The cut goes between the
    # two loaded columns at lon -90; the east part (3 flights, all in one cell) cannot be cut on cell edges.
    density = density_of([(10, -170), (10, 10), (20, 20), (30, 30)], cell_deg=90)
    tiles = plan_tiles(density, target=2)
    assert [t.label for t in tiles] == ["-90,90,-180,-90", "-90,90,-90,180"]


def test_an_empty_density_is_the_whole_world_in_one_tile():
    assert plan_tiles(Density(0.5, {}), target=1200) == [WORLD]


def test_density_counts_the_poles_and_the_180_meridian_in_the_edge_cells():
    density = density_of([(90.0, 180.0), (-90.0, -180.0), (0.0, 180.0), (95.0, 0.0), (float("nan"), 0.0)], 10)
    assert density.cells == {(17, 35): 1.0, (0, 0): 1.0, (9, 35): 1.0}  # out-of-range and NaN left out
    assert density.flights == 3


@pytest.mark.parametrize(("n", "growth"), [(3000, 0.0), (20000, 0.1)])
def test_plans_on_a_simulated_world_cover_the_globe_and_hold_the_target(n, growth):
    world = World.generate(n, seed=3)
    density = density_of_rows(world.flights, cell_deg=0.5)
    target = 0.8 * 1500
    tiles = plan_tiles(density, target, growth=growth)
    assert_exact_cover(tiles)
    for tile in tiles:
        inside = sum(tile.contains(float(f["latitude"]), float(f["longitude"])) for f in world.flights)
        # A flight on a cut line counts in both tiles, which is why this bound has a little room above the target.
        assert inside * (1 + growth) <= target * 1.02, (tile.label, inside)
    # k-d cuts at whole loads: close to ceil(n * (1 + growth) / target) tiles
    assert len(tiles) <= -(-n * (1 + growth) // target) + 4


def test_cold_plan_comes_from_the_zones_the_package_ships():
    zones = {name: (depth, box) for name, depth, box in fr24_zones()}
    # FlightRadarAPI's zone table: London is a subzone of the UK, itself a subzone of Europe.
    assert zones["london"] == (3, Bounds(50.07, 53.06, -2.87, 3.26))
    assert zones["europe"] == (1, Bounds(33.57, 72.57, -16.96, 53.05))
    assert zones["oceania"][1].east == 180.0
    density = cold_density(10_000)
    assert density.total == pytest.approx(10_000)
    # a London cell (3 zones deep) weighs 3^3 / 3^0 = 27 times an open-ocean cell at the same latitude
    # lat 51..52: lon 0..1 (Europe, UK, London) and lon -52..-51 (east of North America, west of the Atlantic zone)
    london, ocean = density.cells[(141, 180)], density.cells[(141, 128)]
    assert london / ocean == pytest.approx(27)
    plan = make_plan(None, cap=1500, fill=0.8, growth=0.1, cold_flights=10_000)
    assert plan.source == "cold start"
    assert_exact_cover(plan.tiles)


def test_grid_cold_start_is_the_30_degree_grid():
    plan = make_plan(None, cap=1500, fill=0.8, growth=0.1, cold_flights=10_000, cold_start="grid")
    assert len(plan.tiles) == 72 and plan.source == "cold start (grid)"


def test_split_capped_cuts_between_medians_and_covers_the_tile():
    # 4 answer points in the NE corner of a 10 x 10 tile at the antimeridian and the north pole.
    tile = Bounds(80, 90, 170, 180)
    answer = [flight(f"{i}", lat, lon) for i, (lat, lon) in enumerate([(88, 178), (89, 179), (88, 179), (89, 180)])]
    pieces = split_capped(tile, answer, parts=4, min_deg=0.25)
    # 10 * cos(85 deg) = 0.87 wide on the ground against 10 high: first a latitude cut between the 2nd and 3rd
    # latitudes [88, 88, 89, 89]: 88.5. South of it (lats 88, 88): 10 * cos(84.25) = 1.0 wide on the ground and
    # 8.5 high, so a latitude cut between 88 and 88: 88 (inside 80.25..88.25). North (lats 89, 89): 1.5 high vs
    # 10 * cos(89.25) = 0.13 wide, a latitude cut at 89.
    assert [p.label for p in pieces] == ["80,88,170,180", "88,88.5,170,180", "88.5,89,170,180", "89,90,170,180"]
    assert sum(p.height * p.width for p in pieces) == pytest.approx(100)
    assert any(p.contains(90.0, 180.0) for p in pieces)


def test_split_capped_without_positions_halves_and_stops_at_the_minimum():
    assert [p.label for p in split_capped(Bounds(0, 1, 0, 4), [], parts=2)] == ["0,1,0,2", "0,1,2,4"]
    assert split_capped(Bounds(0, 0.4, 0, 0.4), [], min_deg=0.25) == [Bounds(0, 0.4, 0, 0.4)]


def _write_density(root: Path, slot: str, positions: list[tuple[float, float]]) -> None:
    path = density_path(str(root), RunSlot.parse(slot))
    LocalStorage().write_bytes(path, density_of(positions, 0.5, slot=slot).to_json())


def test_the_prior_is_the_newest_earlier_slot_within_the_age_limit(tmp_path):
    storage = LocalStorage()
    slot = RunSlot.parse("2026-11-22T14")
    assert find_prior(storage, str(tmp_path), slot, 12) is None
    _write_density(tmp_path, "2026-11-22T10", [(1, 1)])
    _write_density(tmp_path, "2026-11-22T12", [(2, 2), (3, 3)])
    _write_density(tmp_path, "2026-11-22T14", [(4, 4)])  # the slot itself (a re-run) is not its own prior
    prior = find_prior(storage, str(tmp_path), slot, 12)
    assert prior is not None and str(prior.slot) == "2026-11-22T12" and prior.density.flights == 2
    assert prior.path.endswith(f"tech_hour=12/{DENSITY_FILE}")
    assert find_prior(storage, str(tmp_path), slot, 1) is None  # 2 hours old is over a 1-hour limit
    Path(prior.path).write_text("{not json")
    older = find_prior(storage, str(tmp_path), slot, 12)  # a broken file is skipped for an older one
    assert older is not None and str(older.slot) == "2026-11-22T10"
    plan = make_plan(older, cap=1500, fill=0.8, growth=0.1, cold_flights=10_000)
    assert plan.source == "prior slot 2026-11-22T10" and plan.tiles == [WORLD] and plan.prior_flights == 1


def test_density_file_round_trip_and_refusal():
    density = density_of([(51.5, -0.5), (51.6, -0.4), (-33.9, 151.2)], 0.5, slot="2026-11-22T12")
    back = Density.from_json(density.to_json())
    assert back.cells == {(283, 359): 2.0, (112, 662): 1.0} and back.slot == "2026-11-22T12" and back.flights == 3
    with pytest.raises(ValueError, match="version"):
        Density.from_json(b'{"version": 99, "cell_deg": 1, "cells": []}')
    with pytest.raises(ValueError, match="malformed"):
        Density.from_json(b'{"version": 1}')
