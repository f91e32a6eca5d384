from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

from etl.core.columns import FLIGHT_FIELDS
from etl.extract.simulate.world import World, airlines, airport_positions, iter_flights


def test_same_seed_same_world_other_seed_other_world():
    assert list(iter_flights(500, seed=3)) == list(iter_flights(500, seed=3))
    assert list(iter_flights(500, seed=3)) != list(iter_flights(500, seed=4))


def test_world_looks_like_the_real_feed():
    world = World.generate(20_000, seed=20261122, capture_time=datetime(2026, 11, 22, 14, tzinfo=timezone.utc))
    flights = world.flights
    assert len(flights) == 20_000 and len({f["id"] for f in flights}) == 20_000
    assert all(list(f) == list(FLIGHT_FIELDS) for f in flights)
    assert all(f["id"][0].isdigit() for f in flights)  # FlightRadarAPI drops feed keys that do not start so
    types = Counter(f["aircraft_code"] for f in flights)
    assert types.most_common(1)[0][0] == "B738"
    assert {"A320", "A20N", "A321", "B38M", "E190", "AT76", "DH8D", "B77W", "B789", "A359"} <= set(types)
    assert types["GLID"] > 100 and types["GRND"] > 50 and types["BALL"] == 1 and types["DRON"] == 1
    on_ground = sum(f["on_ground"] == "1" for f in flights) / len(flights)
    assert 0.06 < on_ground < 0.10
    assert 0.03 < sum(f["origin_airport_iata"] == "" for f in flights) / len(flights) < 0.10
    assert any(f["longitude"] == "180.0" for f in flights)
    assert all(-90 <= float(f["latitude"]) <= 90 and -180 <= float(f["longitude"]) <= 180 for f in flights)
    times = [int(f["time"]) for f in flights]
    assert max(times) == int(world.capture_time.timestamp()) == 1_795_356_000
    known = airport_positions()
    routed = [f for f in flights if f["origin_airport_iata"] and f["destination_airport_iata"]]
    assert all(f["origin_airport_iata"] in known and f["destination_airport_iata"] in known for f in routed)
    names = {a.icao: a.name for a in airlines()}
    assert names["DLH"] == "Lufthansa" and names["AAL"] == "American Airlines"
    assert {f["airline_icao"] for f in flights if f["airline_icao"]} <= set(names)


def test_world_airlines_carry_the_airline_tables_names_and_countries():
    by_icao = {a.icao: a for a in airlines()}
    # Names and countries are the project airline table's (etl.reference.airlines), codes the airlines' own.
    assert (by_icao["SWR"].iata, by_icao["SWR"].name, by_icao["SWR"].country) == (
        "LX",
        "Swiss International Air Lines",
        "Switzerland",
    )
    assert (by_icao["AFR"].iata, by_icao["AFR"].name, by_icao["AFR"].country) == ("AF", "Air France", "France")
    assert (by_icao["QFA"].iata, by_icao["QFA"].country) == ("QF", "Australia")
    assert (by_icao["THY"].name, by_icao["THY"].country) == ("Turkish Airlines", "Turkey")
    # The country gives the registration's nationality mark: an Air France flight is F-xxxx, a Qantas one VH-xxx.
    flights = list(iter_flights(3000, seed=5))
    marks = {f["airline_icao"]: f["registration"] for f in flights if f["airline_icao"] in ("AFR", "QFA")}
    assert marks["AFR"].startswith("F-") and marks["QFA"].startswith("VH-")


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_advancing_a_world_moves_flights_on_lands_some_and_adds_departures():
    world = World.generate(4000, seed=9, capture_time=datetime(2026, 11, 22, 12, tzinfo=timezone.utc))
    later = world.advance(2.0, seed=1, growth=0.05)
    assert len(later) == 4200  # +5 %
    assert later.capture_time == datetime(2026, 11, 22, 14, tzinfo=timezone.utc)
    assert max(int(f["time"]) for f in later.flights) == int(later.capture_time.timestamp())
    ids = [f["id"] for f in later.flights]
    assert len(set(ids)) == 4200
    before = {f["id"]: f for f in world.flights}
    survivors = [f for f in later.flights if f["id"] in before and f["aircraft_code"] not in ("GLID", "GRND")]
    # Two hours at 700-900 km/h: long routes are still flying, most short ones have landed.
    assert 0 < len(survivors) < 0.5 * len(world)
    for f in survivors:
        old = before[f["id"]]
        assert old["on_ground"] == "0"  # a flight waiting on the ground has left: it is not the same record
        moved = _km(float(old["latitude"]), float(old["longitude"]), float(f["latitude"]), float(f["longitude"]))
        if f["origin_airport_iata"] and f["destination_airport_iata"]:
            assert 600 < moved < 2400, (f["id"], moved)  # 1,400-1,800 km along a straight lat/lon line
        assert int(f["time"]) == int(old["time"]) + 7200

    # The sky keeps its shape: Europe and North America still hold their share, within a few points.
    def share(w, south, north, west, east):
        inside = sum(
            south <= float(f["latitude"]) <= north and west <= float(f["longitude"]) <= east for f in w.flights
        )
        return inside / len(w)

    for box in ((35, 60, -10, 30), (25, 50, -125, -65)):
        assert abs(share(world, *box) - share(later, *box)) < 0.05


def test_advance_changes_the_count_by_at_most_ten_percent():
    world = World.generate(2000, seed=4)
    counts = [len(world.advance(2.0, seed=s)) for s in range(8)]
    assert all(1800 <= c <= 2200 for c in counts) and len(set(counts)) > 1


def test_some_10_degree_box_holds_over_1500_flights_of_a_20000_flight_world():
    world = World.generate(20_000, seed=20261122)
    # The London-Paris-Amsterdam-Frankfurt box, 44-54 N, 1 W-9 E, as on FR24's map at daytime peaks.
    inside = sum(44 <= float(f["latitude"]) <= 54 and -1 <= float(f["longitude"]) <= 9 for f in world.flights)
    assert inside > 1500
