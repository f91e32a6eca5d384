"""All eight gold tables on a simulated world, checked against a plain-Python computation of the same definitions."""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from pathlib import Path

import airportsdata
import pytest
from pyspark.sql import SparkSession

from etl.clean import clean_flights, read_raw_flights
from etl.columns import GOLD_SCHEMAS, GOLD_TABLES, RAW_COLUMNS
from etl.kpis import compute_kpis
from etl.reference import load_references
from etl.reference.aircraft import aircraft_types
from etl.reference.airlines import AIRLINES
from etl.reference.countries import resolve_countries
from etl.simulate.world import World

R = 6371.0088
NON_AIRCRAFT = {"GRND", "BALL", "DRON", "SHIP"}


def blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if value == "" or value.upper() == "N/A" else value


def number(value: str | None) -> float | None:
    try:
        parsed = float(value) if value is not None else None
    except ValueError:
        return None
    return parsed if parsed is not None and math.isfinite(parsed) else None


def python_clean(rows: list[dict[str, str]]) -> list[dict[str, str | None]]:
    """Usable rows, the newest position per id."""
    newest: dict[str, dict[str, str | None]] = {}
    for raw in rows:
        row = {k: blank(v) for k, v in raw.items()}
        lat, lon = number(row["latitude"]), number(row["longitude"])
        if row["id"] is None or lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        kept = newest.get(row["id"])
        if kept is None or int(row["time"] or 0) > int(kept["time"] or 0):
            newest[row["id"]] = row
    return list(newest.values())


def python_live_flights(rows: list[dict[str, str]]) -> list[dict[str, str | None]]:
    """Clean and keep live flights, the way DESIGN.md defines them."""
    return [r for r in python_clean(rows) if r["on_ground"] == "0" and (r["aircraft_code"] or "") not in NON_AIRCRAFT]


def python_airline_countries(rows: list[dict[str, str]]) -> dict[str, str]:
    """The airline table's countries, else two thirds of the airline's aircraft's registration countries (rs1090)."""
    import rs1090

    table = {icao: country for icao, (_, country) in AIRLINES.items()}
    names = resolve_countries(set(table.values()))
    countries = {icao: names[c].name for icao, c in table.items() if names[c] is not None}
    fleets: dict[str, dict[str, str]] = defaultdict(dict)
    for r in python_clean(rows):
        icao, address = r["airline_icao"], (r["icao_24bit"] or "").upper()
        if icao and icao not in countries and (r["aircraft_code"] or "") not in NON_AIRCRAFT and address:
            hexa = len(address) == 6 and all(ch in "0123456789ABCDEF" for ch in address)
            info = (
                rs1090.aircraft_information(address.lower(), (r["registration"] or "").upper() or None) if hexa else {}
            )
            country = resolve_countries([info.get("country") or "Unknown"]).get(info.get("country") or "Unknown")
            if country is not None:
                fleets[icao][address] = country.name
    for icao, fleet in fleets.items():
        top, votes = Counter(fleet.values()).most_common(1)[0]
        if 3 * votes >= 2 * len(fleet):
            countries[icao] = top
    return countries


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(min(1.0, h)))


def ranked(counts: dict, key_order=lambda k: k) -> list[tuple[int, object, float]]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], key_order(kv[0])))
    return [(i + 1, key, value) for i, (key, value) in enumerate(ordered)]


def python_kpis(live: list[dict], airline_countries: dict[str, str]) -> dict[str, list[tuple]]:
    airports = airportsdata.load("IATA")
    continents = {
        code: c.continent for code, c in resolve_countries({a["country"] for a in airports.values()}).items() if c
    }
    ports = {
        code: (a["name"], continents.get(a["country"]), (float(a["lat"]), float(a["lon"])))
        for code, a in airports.items()
    }
    types = aircraft_types()
    cont = lambda code: ports[code][1] if code in ports else None  # noqa: E731
    name = lambda icao: AIRLINES[icao][0] if icao in AIRLINES else None  # noqa: E731
    model = lambda f: types.get(f["aircraft_code"] or "", (None, None))[1]  # noqa: E731
    out: dict[str, list[tuple]] = {}

    q1 = Counter(f["airline_icao"] for f in live if f["airline_icao"])
    out["airline_most_live_flights"] = [(r, k, name(k), v) for r, k, v in ranked(q1)]

    q2: dict[str, Counter] = defaultdict(Counter)
    for f in live:
        o, d = cont(f["origin_airport_iata"]), cont(f["destination_airport_iata"])
        if f["airline_icao"] and o and o == d:
            q2[o][f["airline_icao"]] += 1
    out["airline_most_regional_flights_by_continent"] = [(c, r, k, name(k), v) for c in q2 for r, k, v in ranked(q2[c])]

    routes = []
    for f in live:
        o, d = f["origin_airport_iata"], f["destination_airport_iata"]
        if o in ports and d in ports and o != d:
            routes.append((f, haversine(ports[o][2], ports[d][2])))
    routes.sort(key=lambda fd: (-fd[1], fd[0]["id"]))
    out["longest_live_flight"] = [
        (i + 1, f["id"], f["callsign"], f["airline_icao"], f["origin_airport_iata"], f["destination_airport_iata"], km)
        for i, (f, km) in enumerate(routes)
    ]
    sums: dict[str, list[float]] = defaultdict(list)
    for f, km in routes:
        if cont(f["origin_airport_iata"]):
            sums[cont(f["origin_airport_iata"])].append(km)
    avgs = sorted(((c, sum(v) / len(v), len(v)) for c, v in sums.items()), key=lambda t: (-t[1], t[0]))
    out["average_route_distance_by_continent"] = [(c, i + 1, a, n) for i, (c, a, n) in enumerate(avgs)]

    q5 = Counter(types[f["aircraft_code"]][0] for f in live if (f["aircraft_code"] or "") in types)
    out["manufacturer_most_live_flights"] = [(r, k, v) for r, k, v in ranked(q5)]

    q6: dict[str, Counter] = defaultdict(Counter)
    for f in live:
        icao = f["airline_icao"]
        if icao in airline_countries and model(f):
            q6[airline_countries[icao]][model(f)] += 1
    out["top_models_by_airline_country"] = [(c, r, m, v) for c in q6 for r, m, v in ranked(q6[c]) if r <= 3]

    q7: dict[str, Counter] = defaultdict(Counter)
    for f in live:
        if cont(f["origin_airport_iata"]) and model(f):
            q7[cont(f["origin_airport_iata"])][model(f)] += 1
    out["most_used_model_by_continent"] = [(c, r, m, v) for c in q7 for r, m, v in ranked(q7[c])]

    outgoing = Counter(f["origin_airport_iata"] for f in live if f["origin_airport_iata"])
    incoming = Counter(f["destination_airport_iata"] for f in live if f["destination_airport_iata"])
    codes = sorted(set(outgoing) | set(incoming), key=lambda c: (-abs(outgoing[c] - incoming[c]), c))
    out["airport_flow_imbalance"] = [
        (i + 1, c, ports[c][0] if c in ports else None, outgoing[c], incoming[c], outgoing[c] - incoming[c])
        for i, c in enumerate(codes)
    ]
    return out


def same(actual: list[tuple], expected: list[tuple]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(sorted(actual, key=str), sorted(expected, key=str), strict=True):
        for a, b in zip(got, want, strict=True):
            if isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-9), (got, want)
            else:
                assert a == b, (got, want)


@pytest.mark.slow
def test_gold_tables_match_an_independent_computation(spark: SparkSession, tmp_path: Path):
    world = World.generate(n=4000, seed=7)
    rows = [dict(r, tile="", requested_at="") for r in world.flights]
    # Rows the clean must reject or de-duplicate.
    rows.append(dict(rows[10], time=str(int(rows[10]["time"]) - 60), callsign="OLDER"))
    rows.append(dict(rows[11], id="N/A"))
    rows.append(dict(rows[12], id="bad0001", latitude="100"))
    path = tmp_path / "flights.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RAW_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)

    cleaned = clean_flights(read_raw_flights(spark, str(path)))
    refs = load_references(spark, airports_csv=None, airlines_csv=None)
    gold = compute_kpis(cleaned.silver, refs)
    expected = python_kpis(python_live_flights(rows), python_airline_countries(rows))

    assert cleaned.rule_counts["duplicate_id"] == 1 and cleaned.rule_counts["missing_id"] == 1
    for name in GOLD_TABLES:
        actual = [tuple(r) for r in gold[name].collect()]
        assert actual, name
        assert [f.name for f in gold[name].schema.fields] == list(GOLD_SCHEMAS[name])
        same(actual, expected[name])
