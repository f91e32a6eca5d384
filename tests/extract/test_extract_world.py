from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from etl.columns import FLIGHT_FIELDS
from etl.simulate.world import World, airlines, airport_positions, iter_flights


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
