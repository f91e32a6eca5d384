"""All eight gold tables on a simulated world, checked against a plain-Python computation of the same definitions."""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from pathlib import Path

import airportsdata
import pytest
from pyspark.sql import SparkSession

from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES, RAW_COLUMNS
from etl.extract.simulate.world import World
from etl.reference import load_references
from etl.transform.clean import clean_flights, read_raw_flights
from etl.transform.kpis import compute_kpis

R = 6371.0088  # the mean Earth radius (IUGG), the sphere DESIGN.md's distances are measured on
NON_AIRCRAFT = {"GRND", "BALL", "DRON", "SHIP"}

# The facts this test needs about the simulated world, written here rather than read from the project's tables,
# so that a wrong fact there shows as a difference. Aircraft types the world flies: ICAO Doc 8643 designator ->
# (manufacturer, model as the gold tables name it). GLID and the non-aircraft codes have no type.
TYPES: dict[str, tuple[str, str]] = {
    "A319": ("Airbus", "Airbus A319"),
    "A320": ("Airbus", "Airbus A320"),
    "A20N": ("Airbus", "Airbus A320neo"),
    "A321": ("Airbus", "Airbus A321"),
    "A21N": ("Airbus", "Airbus A321neo"),
    "A333": ("Airbus", "Airbus A330-300"),
    "A339": ("Airbus", "Airbus A330-900"),
    "A359": ("Airbus", "Airbus A350-900"),
    "A35K": ("Airbus", "Airbus A350-1000"),
    "A388": ("Airbus", "Airbus A380-800"),
    "BCS3": ("Airbus", "Airbus A220-300"),  # the former Bombardier CS300, an Airbus type since 2018
    "B737": ("Boeing", "Boeing 737-700"),
    "B738": ("Boeing", "Boeing 737-800"),
    "B739": ("Boeing", "Boeing 737-900"),
    "B38M": ("Boeing", "Boeing 737 MAX 8"),
    "B744": ("Boeing", "Boeing 747-400"),
    "B752": ("Boeing", "Boeing 757-200"),
    "B763": ("Boeing", "Boeing 767-300"),
    "B772": ("Boeing", "Boeing 777-200"),
    "B77W": ("Boeing", "Boeing 777-300ER"),
    "B788": ("Boeing", "Boeing 787-8"),
    "B789": ("Boeing", "Boeing 787-9"),
    "B78X": ("Boeing", "Boeing 787-10"),
    "E190": ("Embraer", "Embraer E190"),
    "E75L": ("Embraer", "Embraer E175"),
    "CRJ9": ("Bombardier", "Bombardier CRJ900"),
    "AT76": ("ATR", "ATR 72-600"),
    "DH8D": ("De Havilland Canada", "De Havilland Canada Dash 8-400"),
}
# The airlines the world flies, by home country as the gold tables spell it (Turkey as "Türkiye"): ICAO:name.
_AIRLINES_BY_COUNTRY: dict[str, str] = {
    "Argentina": "ARG:Aerolíneas Argentinas",
    "Australia": "JST:Jetstar Airways|QFA:Qantas|VOZ:Virgin Australia",
    "Austria": "AUA:Austrian Airlines",
    "Brazil": "AZU:Azul Brazilian Airlines|GLO:Gol Linhas Aéreas|TAM:LATAM Airlines Brasil",
    "Canada": "ACA:Air Canada|WJA:WestJet",
    "Chile": "LAN:LATAM Airlines",
    "China": (
        "CCA:Air China|CES:China Eastern Airlines|CHH:Hainan Airlines|CSN:China Southern Airlines|CXA:Xiamen Airlines"
    ),
    "Colombia": "AVA:Avianca",
    "Egypt": "MSR:EgyptAir",
    "Ethiopia": "ETH:Ethiopian Airlines",
    "Finland": "FIN:Finnair",
    "France": "AFR:Air France",
    "Germany": "DLH:Lufthansa|EWG:Eurowings",
    "Hong Kong": "CPA:Cathay Pacific",
    "Hungary": "WZZ:Wizz Air",
    "India": "AIC:Air India|IGO:IndiGo",
    "Indonesia": "GIA:Garuda Indonesia|LNI:Lion Air",
    "Ireland": "RYR:Ryanair",
    "Italy": "ITY:ITA Airways",
    "Japan": "ANA:All Nippon Airways|JAL:Japan Airlines",
    "Kenya": "KQA:Kenya Airways",
    "Malaysia": "AXM:AirAsia",
    "Mexico": "AMX:Aeroméxico|VOI:Volaris",
    "Morocco": "RAM:Royal Air Maroc",
    "Netherlands": "KLM:KLM Royal Dutch Airlines",
    "New Zealand": "ANZ:Air New Zealand",
    "Norway": "NAX:Norwegian Air Shuttle",
    "Panama": "CMP:Copa Airlines",
    "Philippines": "CEB:Cebu Pacific",
    "Poland": "LOT:LOT Polish Airlines",
    "Portugal": "TAP:TAP Air Portugal",
    "Qatar": "QTR:Qatar Airways",
    "Saudi Arabia": "SVA:Saudia",
    "Singapore": "SIA:Singapore Airlines",
    "South Africa": "SAA:South African Airways",
    "South Korea": "AAR:Asiana Airlines|KAL:Korean Air",
    "Spain": "IBE:Iberia|VLG:Vueling",
    "Sweden": "SAS:Scandinavian Airlines",
    "Switzerland": "SWR:Swiss International Air Lines",
    "Taiwan": "CAL:China Airlines|EVA:EVA Air",
    "Thailand": "THA:Thai Airways",
    "Türkiye": "PGT:Pegasus Airlines|THY:Turkish Airlines",
    "United Arab Emirates": "ETD:Etihad Airways|UAE:Emirates",
    "United Kingdom": "BAW:British Airways|EZY:easyJet",
    "United States": (
        "AAL:American Airlines|ASA:Alaska Airlines|DAL:Delta Air Lines|FDX:FedEx Express|"
        "FFT:Frontier Airlines|JBU:JetBlue Airways|NKS:Spirit Airlines|RPA:Republic Airways|"
        "SKW:SkyWest Airlines|SWA:Southwest Airlines|UAL:United Airlines|UPS:UPS Airlines"
    ),
    "Vietnam": "HVN:Vietnam Airlines|VJC:VietJet Air",
}
AIRLINES: dict[str, tuple[str, str]] = {
    icao: (name, country)
    for country, listed in _AIRLINES_BY_COUNTRY.items()
    for icao, name in (item.split(":") for item in listed.split("|"))
}
# Continent of each country (ISO 3166-1 alpha-2, as airportsdata gives it) that has a simulated airport; Egypt is in
# Africa, Turkey and the Gulf states in Asia, Mexico in North America.
CONTINENT_OF: dict[str, str] = {
    **dict.fromkeys(["CA", "MX", "US"], "North America"),
    **dict.fromkeys(["AR", "BR", "CL", "CO", "PE"], "South America"),
    **dict.fromkeys(
        ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "IE", "IT", "NL", "NO", "PL", "PT", "SE"], "Europe"
    ),
    **dict.fromkeys(
        ["AE", "CN", "HK", "ID", "IN", "JP", "KR", "MY", "PH", "QA", "SA", "SG", "TH", "TR", "TW", "VN"], "Asia"
    ),
    **dict.fromkeys(["EG", "ET", "KE", "MA", "NG", "ZA"], "Africa"),
    **dict.fromkeys(["AU", "NZ"], "Oceania"),
}


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


def python_airline_countries(live: list[dict[str, str | None]]) -> dict[str, str]:
    """Each airline's country, from the test's table: the world flies only airlines whose country it knows."""
    seen = {f["airline_icao"] for f in live if f["airline_icao"]}
    assert seen <= set(AIRLINES), f"airlines missing from the test's table: {sorted(seen - set(AIRLINES))}"
    return {icao: country for icao, (_, country) in AIRLINES.items()}


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(min(1.0, h)))


def ranked(counts: dict, key_order=lambda k: k) -> list[tuple[int, object, float]]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], key_order(kv[0])))
    return [(i + 1, key, value) for i, (key, value) in enumerate(ordered)]


def python_kpis(live: list[dict], airline_countries: dict[str, str]) -> dict[str, list[tuple]]:
    airports = airportsdata.load("IATA")
    ports = {
        code: (a["name"], CONTINENT_OF.get(a["country"]), (float(a["lat"]), float(a["lon"])))
        for code, a in airports.items()
    }
    used = {f[end] for f in live for end in ("origin_airport_iata", "destination_airport_iata") if f[end]}
    assert {airports[code]["country"] for code in used} <= set(CONTINENT_OF)  # the test's table covers the world
    types = TYPES
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
    expected = python_kpis(python_live_flights(rows), python_airline_countries(python_live_flights(rows)))

    assert cleaned.rule_counts["duplicate_id"] == 1 and cleaned.rule_counts["missing_id"] == 1
    for name in GOLD_TABLES:
        actual = [tuple(r) for r in gold[name].collect()]
        assert actual, name
        assert [f.name for f in gold[name].schema.fields] == list(GOLD_SCHEMAS[name])
        same(actual, expected[name])
