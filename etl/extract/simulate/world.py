"""A seeded, realistic whole-world snapshot of live air traffic, as the FR24 feed would describe it."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from etl.core.airports import airportsdata_airports
from etl.transform.geo import haversine_km_py

# Busy airports by region with a relative traffic weight (a rough share of daily movements).
AIRPORTS_BY_REGION: dict[str, tuple[tuple[str, int], ...]] = {
    "NA": (
        ("ATL", 10),
        ("ORD", 9),
        ("DFW", 9),
        ("DEN", 8),
        ("LAX", 8),
        ("JFK", 6),
        ("LAS", 5),
        ("MCO", 5),
        ("CLT", 6),
        ("PHX", 5),
        ("SEA", 5),
        ("SFO", 5),
        ("EWR", 5),
        ("MIA", 4),
        ("IAH", 5),
        ("BOS", 4),
        ("MSP", 4),
        ("DTW", 4),
        ("PHL", 3),
        ("SLC", 3),
        ("YYZ", 5),
        ("YVR", 3),
        ("YUL", 3),
        ("MEX", 5),
        ("CUN", 3),
        ("ANC", 1),
        ("HNL", 2),
    ),
    "EU": (
        ("LHR", 6),
        ("CDG", 6),
        ("AMS", 6),
        ("FRA", 6),
        ("IST", 6),
        ("MAD", 5),
        ("BCN", 4),
        ("MUC", 4),
        ("FCO", 4),
        ("LGW", 3),
        ("DUB", 3),
        ("ZRH", 3),
        ("CPH", 3),
        ("OSL", 3),
        ("ARN", 2),
        ("VIE", 3),
        ("LIS", 3),
        ("PMI", 2),
        ("ATH", 2),
        ("WAW", 2),
        ("HEL", 2),
        ("BRU", 2),
        ("MAN", 2),
        ("SAW", 3),
    ),
    "AS": (
        ("PEK", 6),
        ("PKX", 4),
        ("PVG", 6),
        ("CAN", 6),
        ("SZX", 5),
        ("CTU", 5),
        ("KMG", 4),
        ("XIY", 4),
        ("CKG", 4),
        ("HGH", 4),
        ("SHA", 4),
        ("HND", 6),
        ("NRT", 3),
        ("ICN", 5),
        ("HKG", 4),
        ("TPE", 3),
        ("SIN", 5),
        ("BKK", 5),
        ("KUL", 4),
        ("CGK", 5),
        ("MNL", 4),
        ("SGN", 4),
        ("DEL", 6),
        ("BOM", 5),
        ("BLR", 4),
    ),
    "ME": (("DXB", 6), ("DOH", 4), ("AUH", 3), ("RUH", 3), ("JED", 3)),
    "OC": (("SYD", 4), ("MEL", 4), ("BNE", 3), ("AKL", 3), ("PER", 2)),
    "SA": (("GRU", 5), ("GIG", 2), ("BOG", 4), ("SCL", 3), ("LIM", 3), ("EZE", 2), ("CGH", 3), ("BSB", 2)),
    "AF": (("JNB", 3), ("CAI", 3), ("ADD", 3), ("CMN", 2), ("NBO", 2), ("LOS", 2), ("CPT", 2)),
}
# Share of the world's flights departing from each region (North America and Europe dominate).
REGION_WEIGHTS: dict[str, int] = {"NA": 34, "EU": 25, "AS": 25, "ME": 4, "OC": 4, "SA": 5, "AF": 3}

# (ICAO, IATA, weight) of real airlines, by the region they mostly fly from: which airlines fly where, and how much.
# Their names and countries come from the project airline table (`etl.reference.airlines`), the one home of those
# facts; the IATA code (the flight number's prefix) is the one fact about them kept here, as that table has none.
AIRLINES_BY_REGION: dict[str, tuple[tuple[str, str, int], ...]] = {
    "NA": (
        ("AAL", "AA", 12),
        ("DAL", "DL", 12),
        ("UAL", "UA", 11),
        ("SWA", "WN", 11),
        ("SKW", "OO", 6),
        ("ASA", "AS", 4),
        ("JBU", "B6", 4),
        ("RPA", "YX", 3),
        ("ACA", "AC", 4),
        ("WJA", "WS", 3),
        ("AMX", "AM", 2),
        ("VOI", "Y4", 2),
        ("FFT", "F9", 2),
        ("NKS", "NK", 2),
        ("FDX", "FX", 2),
        ("UPS", "5X", 1),
    ),
    "EU": (
        ("RYR", "FR", 12),
        ("EZY", "U2", 7),
        ("THY", "TK", 7),
        ("DLH", "LH", 7),
        ("AFR", "AF", 5),
        ("BAW", "BA", 5),
        ("KLM", "KL", 4),
        ("WZZ", "W6", 4),
        ("IBE", "IB", 3),
        ("VLG", "VY", 3),
        ("PGT", "PC", 3),
        ("SAS", "SK", 3),
        ("SWR", "LX", 2),
        ("EWG", "EW", 2),
        ("NAX", "DY", 2),
        ("TAP", "TP", 2),
        ("ITY", "AZ", 2),
        ("AUA", "OS", 1),
        ("LOT", "LO", 1),
        ("FIN", "AY", 1),
    ),
    "AS": (
        ("CSN", "CZ", 9),
        ("CES", "MU", 8),
        ("CCA", "CA", 7),
        ("CHH", "HU", 4),
        ("CXA", "MF", 3),
        ("IGO", "6E", 7),
        ("AIC", "AI", 3),
        ("ANA", "NH", 4),
        ("JAL", "JL", 3),
        ("KAL", "KE", 3),
        ("AAR", "OZ", 1),
        ("CPA", "CX", 2),
        ("SIA", "SQ", 2),
        ("AXM", "AK", 3),
        ("THA", "TG", 1),
        ("LNI", "JT", 3),
        ("GIA", "GA", 1),
        ("CEB", "5J", 2),
        ("VJC", "VJ", 2),
        ("HVN", "VN", 2),
        ("EVA", "BR", 1),
        ("CAL", "CI", 1),
    ),
    "ME": (
        ("UAE", "EK", 5),
        ("QTR", "QR", 4),
        ("ETD", "EY", 2),
        ("SVA", "SV", 3),
    ),
    "OC": (
        ("QFA", "QF", 4),
        ("VOZ", "VA", 3),
        ("JST", "JQ", 2),
        ("ANZ", "NZ", 2),
    ),
    "SA": (
        ("TAM", "LA", 4),
        ("GLO", "G3", 4),
        ("AZU", "AD", 3),
        ("AVA", "AV", 3),
        ("LAN", "LA", 2),
        ("ARG", "AR", 1),
        ("CMP", "CM", 1),
    ),
    "AF": (
        ("ETH", "ET", 3),
        ("MSR", "MS", 2),
        ("RAM", "AT", 2),
        ("SAA", "SA", 1),
        ("KQA", "KQ", 1),
    ),
}

# ICAO type designators with weights, by route length.
SHORT_HAUL_TYPES = (
    ("B738", 22),
    ("A320", 18),
    ("A20N", 12),
    ("A321", 10),
    ("B38M", 8),
    ("A21N", 6),
    ("B739", 4),
    ("A319", 4),
    ("E190", 3),
    ("E75L", 4),
    ("CRJ9", 2),
    ("AT76", 3),
    ("DH8D", 2),
    ("BCS3", 2),
    ("B737", 2),
)
MEDIUM_HAUL_TYPES = (("A321", 20), ("A21N", 16), ("B739", 10), ("B752", 8), ("B763", 8), ("B738", 14), ("A333", 6))
LONG_HAUL_TYPES = (
    ("B77W", 20),
    ("B789", 16),
    ("A359", 14),
    ("B788", 8),
    ("A333", 8),
    ("B772", 6),
    ("A388", 4),
    ("B744", 2),
    ("B763", 5),
    ("A339", 3),
    ("A35K", 3),
    ("B78X", 4),
)
# Registration prefixes by airline country (ICAO nationality marks).
_REG_PREFIX = {
    "United States": "N",
    "Canada": "C-",
    "Mexico": "XA-",
    "Ireland": "EI-",
    "United Kingdom": "G-",
    "Turkey": "TC-",
    "Germany": "D-",
    "France": "F-",
    "Netherlands": "PH-",
    "Hungary": "HA-",
    "Spain": "EC-",
    "Sweden": "SE-",
    "Switzerland": "HB-",
    "Norway": "LN-",
    "Portugal": "CS-",
    "Italy": "I-",
    "Austria": "OE-",
    "Poland": "SP-",
    "Finland": "OH-",
    "China": "B-",
    "India": "VT-",
    "Japan": "JA",
    "South Korea": "HL",
    "Hong Kong": "B-",
    "Singapore": "9V-",
    "Malaysia": "9M-",
    "Thailand": "HS-",
    "Indonesia": "PK-",
    "Philippines": "RP-C",
    "Vietnam": "VN-",
    "Taiwan": "B-",
    "United Arab Emirates": "A6-",
    "Qatar": "A7-",
    "Saudi Arabia": "HZ-",
    "Australia": "VH-",
    "New Zealand": "ZK-",
    "Brazil": "PR-",
    "Colombia": "HK-",
    "Chile": "CC-",
    "Argentina": "LV-",
    "Panama": "HP-",
    "Ethiopia": "ET-",
    "Egypt": "SU-",
    "Morocco": "CN-",
    "South Africa": "ZS-",
    "Kenya": "5Y-",
}
# Where gliders fly on a summer day: Alps and German plains, Chile, Australia, US west.
GLIDER_AREAS = ((47.0, 9.5, 2.5), (51.0, 10.0, 2.5), (-33.4, -70.6, 0.8), (-34.0, 147.0, 3.0), (39.0, -119.0, 2.0))
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Airline:
    """A real airline the simulator flies."""

    icao: str
    iata: str
    name: str
    country: str


@lru_cache(maxsize=1)
def airport_positions() -> dict[str, tuple[float, float, str]]:
    """IATA -> (latitude, longitude, ISO country) of the simulator's airports, from the airportsdata package."""
    known = {row["iata"]: row for row in airportsdata_airports()}
    out = {}
    for airports in AIRPORTS_BY_REGION.values():
        for iata, _ in airports:
            row = known[iata]
            out[iata] = (float(row["latitude"]), float(row["longitude"]), row["country"])
    return out


def _airline_table() -> dict[str, tuple[str, str]]:
    """The project airline table, ICAO -> (name, country), imported when first needed.

    Importing `etl.reference.airlines` runs the `etl.reference` package, which loads pyspark: importing this module
    (as `etl extract` does) must not.
    """
    from etl.reference.airlines import AIRLINES

    return AIRLINES


def airlines() -> list[Airline]:
    """Every airline the simulator uses, with its real codes, and its name and country from the airline table."""
    table = _airline_table()
    return [Airline(icao, iata, *table[icao]) for rows in AIRLINES_BY_REGION.values() for icao, iata, _ in rows]


def _weighted(rows: tuple, weight_index: int = -1) -> tuple[list, list[int]]:
    items = list(rows)
    cumulative, total = [], 0
    for row in items:
        total += row[weight_index]
        cumulative.append(total)
    return items, cumulative


def _num(value: float, digits: int = 4) -> str:
    """A coordinate as the feed's JSON number reads back in Python: `45.808`, `180.0`."""
    return repr(round(value, digits))


# Regional routes follow a gravity model: an airport attracts flights in proportion to its weight and falls off with
# the square of distance beyond GRAVITY_KM. With aircraft crowding near airports (below), that keeps short-haul
# traffic near the hubs: a 20,000-flight world holds over 1,500 flights in a 10x10-degree box over London-Paris-
# Amsterdam-Frankfurt, as FR24's map shows at European daytime peaks; North America's and East Asia's densest boxes
# pass 1,500 from 40,000 flights (the airport table spreads their hubs wider). Measured in benchmarks/.
GRAVITY_KM = 300.0
LONG_HAUL_SHARE = 0.12


@dataclass(frozen=True)
class Route:
    """Where a flight is on its great-circle-ish route (linear in lat/lon, longitude unwrapped), to move it on."""

    olat: float
    olon: float
    dlat: float
    dlon: float  # unwrapped: olon + (dlon - olon) never crosses more than 180 degrees
    frac: float  # share of the route flown
    distance_km: float
    speed_kmh: float


def iter_flights(n: int = 20_000, seed: int = 20261122, capture_epoch: int = 1_795_356_000) -> Iterator[dict[str, str]]:
    """Yield `n` flight records (FLIGHT_FIELDS -> text), deterministic for a seed; ids are unique."""
    for row, _ in _iter_routed(n, seed, capture_epoch):
        yield row


def _iter_routed(
    n: int,
    seed: int,
    capture_epoch: int,
    *,
    first_index: int = 0,
    id_seed: int | None = None,
) -> Iterator[tuple[dict[str, str], Route | None]]:
    """Flight records with their routes (None for tracks that do not fly a route); ids from index `first_index`."""
    rng = random.Random(seed)
    rand, randint, bits = rng.random, rng.randint, rng.getrandbits

    def pick(weighted: tuple[list, Sequence[float]]) -> Any:
        items, cum = weighted  # a bisect on cumulative weights: random.choices, minus its per-call overhead
        return items[bisect.bisect_right(cum, rand() * cum[-1])]

    distances: dict[tuple[str, str], float] = {}
    positions = airport_positions()
    regions = _weighted(tuple(REGION_WEIGHTS.items()))
    airports_by_region = {r: _weighted(rows) for r, rows in AIRPORTS_BY_REGION.items()}
    table = _airline_table()
    airlines_by_region = {
        region: _weighted(tuple((icao, iata, table[icao][1], weight) for icao, iata, weight in rows))
        for region, rows in AIRLINES_BY_REGION.items()
    }
    gravity = _gravity_destinations()
    hubs_long = [iata for rows in AIRPORTS_BY_REGION.values() for iata, w in rows if w >= 4]
    types = {k: _weighted(v) for k, v in (("s", SHORT_HAUL_TYPES), ("m", MEDIUM_HAUL_TYPES), ("l", LONG_HAUL_TYPES))}
    # FR24 ids are hex and begin with a digit (FlightRadarAPI drops keys that do not): 0x3xxxxxxx, unique for i < 2^28.
    id_offset = ((seed if id_seed is None else id_seed) * 40503) & 0x0FFFFFFF
    specials = {0: "BALL", 1: "DRON", 2: "SHIP"} if n >= 100 and first_index == 0 else {}

    for i in range(first_index, first_index + n):
        flight_id = f"{0x30000000 + ((id_offset + i * 2654435761) & 0x0FFFFFFF):08x}"
        icao24 = f"{bits(24):06X}"
        age = int(rand() ** 3 * 40) if rand() > 0.01 else randint(60, 900)  # a few estimated, older positions
        t = capture_epoch - age if i else capture_epoch  # the first flight carries the capture time itself
        r = rand()
        kind = specials.get(i) or ("GLID" if r < 0.012 else "GRND" if r < 0.017 else "")
        region = pick(regions)[0]
        if kind:
            yield _special(kind, rng, flight_id, icao24, t, region, positions), None
            continue
        origin = pick(airports_by_region[region])[0]
        long_haul = rand() < LONG_HAUL_SHARE
        if long_haul:
            destination = origin
            while destination == origin or positions[destination][2] == positions[origin][2]:
                destination = hubs_long[randint(0, len(hubs_long) - 1)]
        else:
            destination = pick(gravity[origin])
        olat, olon, _ = positions[origin]
        dlat, dlon, _ = positions[destination]
        distance = distances.get((origin, destination))
        if distance is None:
            distance = distances[(origin, destination)] = haversine_km_py(olat, olon, dlat, dlon)
        on_ground = rand() < 0.08
        # Climbs, descents, holds and approaches are slow: a 2-hour flight spends some 45 % of its time within
        # ~250 km of an airport, so a snapshot finds that share of aircraft there, not an even spread along routes.
        if on_ground:
            frac = 0.0
        elif rand() < 0.45:
            near = min(0.5, rand() * 250.0 / max(distance, 1.0))
            frac = max(0.02, near if rand() < 0.5 else 1.0 - near)
        else:
            frac = 0.02 + rand() * 0.96
        dlon_u = dlon - olon
        if dlon_u > 180:  # unwrap so routes across the antimeridian go the short way
            dlon_u -= 360
        elif dlon_u < -180:
            dlon_u += 360
        route = Route(olat, olon, dlat, olon + dlon_u, frac, distance, 0.0 if on_ground else 700.0 + rand() * 200)
        yield (
            _routed_row(rng, flight_id, icao24, t, region, origin, destination, route, airlines_by_region, types),
            route,
        )


def _routed_row(
    rng: random.Random,
    flight_id: str,
    icao24: str,
    t: int,
    region: str,
    origin: str,
    destination: str,
    route: Route,
    airlines_by_region: dict[str, tuple[list, list[int]]],
    types: dict[str, tuple[list, list[int]]],
) -> dict[str, str]:
    """The feed record of an airline flight at `route.frac` along its route."""
    rand, randint, bits = rng.random, rng.randint, rng.getrandbits

    def pick(weighted: tuple[list, Sequence[float]]) -> Any:
        items, cum = weighted
        return items[bisect.bisect_right(cum, rand() * cum[-1])]

    icao, iata, country, _ = pick(airlines_by_region[region])
    distance, frac = route.distance_km, route.frac
    band = "l" if distance > 4500 else "m" if distance > 2500 else "s"
    aircraft = pick(types[band])[0]
    on_ground = route.speed_kmh == 0.0
    olat, olon, dlat, dlon_u = route.olat, route.olon, route.dlat, route.dlon - route.olon
    noise = 0.0 if on_ground else 0.6
    lat = olat + (dlat - olat) * frac + (rand() - 0.5) * noise
    lon = olon + dlon_u * frac + (rand() - 0.5) * noise
    if on_ground:
        lat += (rand() - 0.5) * 0.02
        lon += (rand() - 0.5) * 0.02
    lon = ((lon + 180) % 360) - 180
    lat = max(-90.0, min(90.0, lat))
    if rand() < 0.004:  # some positions sit exactly on whole degrees: tile edges, where duplicates arise
        lat, lon = float(round(lat)), float(round(lon))
    heading = int(math.degrees(math.atan2(dlon_u * math.cos(math.radians(lat)), dlat - olat))) % 360
    edge = min(frac, 1 - frac) * distance  # km from the nearer airport
    if on_ground:
        altitude, speed, vspeed = 0, randint(0, 25), 0
    elif edge < 150:
        altitude, speed = int(edge * 200 * (0.7 + rand() * 0.3)) + 500, 180 + int(edge * 1.2)
        vspeed = randint(500, 3000) * (1 if frac < 0.5 else -1)
    else:
        altitude, speed, vspeed = (
            randint(28, 41) * 1000 + randint(-2, 2) * 25,
            randint(410, 520),
            randint(-1, 1) * 64,
        )
    number = f"{iata}{randint(1, 9999)}"
    callsign = f"{icao}{number[2:]}"
    prefix = _REG_PREFIX.get(country, "N")
    code = bits(15)
    letters = _LETTERS[code % 26] + _LETTERS[(code >> 5) % 26] + _LETTERS[(code >> 10) % 26]
    registration = prefix + (f"{100 + code % 900}{letters[:2]}" if prefix == "N" else letters)
    row = {
        "latitude": _num(lat),
        "longitude": _num(lon),
        "id": flight_id,
        "icao_24bit": icao24,
        "heading": str(heading),
        "altitude": str(altitude),
        "ground_speed": str(speed),
        "squawk": "",
        "aircraft_code": aircraft,
        "registration": registration,
        "time": str(t),
        "origin_airport_iata": origin,
        "destination_airport_iata": destination,
        "number": number,
        "airline_iata": iata,
        "on_ground": "1" if on_ground else "0",
        "vertical_speed": str(vspeed),
        "callsign": callsign,
        "airline_icao": icao,
    }
    _blank_some(row, rand())
    return row


@lru_cache(maxsize=1)
def _gravity_destinations() -> dict[str, tuple[list[str], list[float]]]:
    """Per origin, its region's other airports with cumulative gravity weights (weight / (1 + (d / GRAVITY_KM)^2))."""
    positions = airport_positions()
    out = {}
    for rows in AIRPORTS_BY_REGION.values():
        for origin, _ in rows:
            olat, olon, _ = positions[origin]
            items, cumulative, total = [], [], 0.0
            for destination, weight in rows:
                if destination == origin:
                    continue
                dlat, dlon, _ = positions[destination]
                total += weight / (1 + (haversine_km_py(olat, olon, dlat, dlon) / GRAVITY_KM) ** 2)
                items.append(destination)
                cumulative.append(total)
            out[origin] = (items, cumulative)
    return out


def _blank_some(row: dict[str, str], r: float) -> None:
    """Missing values as the real feed has them: empty strings, the odd N/A, origin == destination."""
    if r < 0.06:
        row["origin_airport_iata"] = ""
    elif r < 0.08:
        row["destination_airport_iata"] = row["origin_airport_iata"]
    if 0.04 < r < 0.12:
        row["destination_airport_iata"] = ""
    if 0.10 < r < 0.18:
        row["airline_icao"] = ""
    if 0.17 < r < 0.20:  # a flight number without an airline: no IATA airline either
        row["number"] = ""
        row["airline_iata"] = ""
    if 0.30 < r < 0.302:
        row["registration"] = "N/A"
    if 0.40 < r < 0.401:
        row["aircraft_code"] = ""


def _special(
    kind: str, rng: random.Random, flight_id: str, icao24: str, t: int, region: str, positions: dict
) -> dict[str, str]:
    """Tracks that are not airliners: gliders, ground vehicles, a balloon, a drone, a ship."""
    if kind == "GLID":
        clat, clon, spread = GLIDER_AREAS[rng.randint(0, len(GLIDER_AREAS) - 1)]
        lat, lon = clat + rng.uniform(-spread, spread), clon + rng.uniform(-spread, spread)
        altitude, speed, reg = rng.randint(800, 9000), rng.randint(0, 90), f"D-{rng.randint(1000, 9999)}"
    elif kind == "GRND":
        iata = rng.choice(list(positions))
        lat, lon = positions[iata][0] + rng.uniform(-0.01, 0.01), positions[iata][1] + rng.uniform(-0.01, 0.01)
        altitude, speed, reg = 0, rng.randint(0, 30), ""
    elif kind == "BALL":
        lat, lon, altitude, speed, reg = 37.7, -106.1, 52600, 6, "N257TH"
    elif kind == "DRON":
        lat, lon, altitude, speed, reg = 52.37, 4.89, 300, 12, ""
    else:  # a ship on the antimeridian: longitude exactly 180.0, as the real feed has it
        lat, lon, altitude, speed, reg = -17.5, 180.0, 0, 14, ""
    return {
        "latitude": _num(lat),
        "longitude": _num(lon),
        "id": flight_id,
        "icao_24bit": icao24,
        "heading": str(rng.randint(0, 359)),
        "altitude": str(altitude),
        "ground_speed": str(speed),
        "squawk": "",
        "aircraft_code": kind,
        "registration": reg,
        "time": str(t),
        "origin_airport_iata": "",
        "destination_airport_iata": "",
        "number": "",
        "airline_iata": "",
        "on_ground": "0",
        "vertical_speed": "0",
        "callsign": reg.replace("-", "")[:8],
        "airline_icao": "",
    }


@dataclass(frozen=True)
class World:
    """One simulated snapshot: its flights, the moment it was captured, and each flight's route (to move it on)."""

    flights: tuple[dict[str, str], ...]
    capture_time: datetime
    routes: tuple[Route | None, ...] = field(default=(), repr=False, compare=False)
    seed: int = 20261122
    next_index: int = 0  # the id index the next new flight gets: ids stay unique across advanced slots

    @classmethod
    def generate(cls, n: int = 20_000, seed: int = 20261122, capture_time: datetime | None = None) -> World:
        """A world of `n` flights whose newest position is exactly `capture_time` (default 2026-11-22T14:00Z)."""
        moment = capture_time or datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        pairs = list(_iter_routed(n, seed, int(moment.timestamp())))
        return cls(
            tuple(row for row, _ in pairs),
            datetime.fromtimestamp(int(moment.timestamp()), timezone.utc),
            tuple(route for _, route in pairs),
            seed,
            n,
        )

    def __len__(self) -> int:
        return len(self.flights)

    def advance(self, hours: float = 2.0, *, seed: int = 0, growth: float | None = None) -> World:
        """The same sky `hours` later: flights moved on along their routes, landed ones gone, new departures.

        The flight count changes by `growth` (default: a draw in [-10 %, +10 %] seeded by `seed`); tracks without
        a route (gliders, ground vehicles, the balloon, ...) stay where they were. Ids of new flights never repeat
        ids of this world.
        """
        rng = random.Random(f"{self.seed}/{self.next_index}/{seed}")
        change = rng.uniform(-0.1, 0.1) if growth is None else growth
        target = max(1, round(len(self.flights) * (1 + change)))
        shift = int(hours * 3600)
        kept: list[tuple[dict[str, str], Route | None]] = []
        routes = self.routes or (None,) * len(self.flights)
        for row, route in zip(self.flights, routes, strict=True):
            moved = dict(row, time=str(int(row["time"]) + shift))
            if route is None:
                kept.append((moved, None))
                continue
            if route.speed_kmh == 0.0:
                continue  # was waiting on the ground: it has left, among the new departures
            frac = route.frac + route.speed_kmh * hours / max(route.distance_km, 1.0)
            if frac >= 0.98:
                continue  # landed
            step = frac - route.frac
            lat = max(-90.0, min(90.0, float(row["latitude"]) + (route.dlat - route.olat) * step))
            lon = ((float(row["longitude"]) + (route.dlon - route.olon) * step + 180) % 360) - 180
            moved.update(latitude=_num(lat), longitude=_num(lon))
            kept.append(
                (moved, Route(route.olat, route.olon, route.dlat, route.dlon, frac, route.distance_km, route.speed_kmh))
            )
        if len(kept) > target:
            keep = set(rng.sample(range(len(kept)), target))
            kept = [pair for i, pair in enumerate(kept) if i in keep]
        epoch = int(self.capture_time.timestamp()) + shift
        new = list(
            _iter_routed(target - len(kept), rng.getrandbits(32), epoch, first_index=self.next_index, id_seed=self.seed)
        )
        pairs = kept + new
        return World(
            tuple(row for row, _ in pairs),
            datetime.fromtimestamp(epoch, timezone.utc),
            tuple(route for _, route in pairs),
            self.seed,
            self.next_index + len(new),
        )
