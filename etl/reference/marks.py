"""Registration -> state of registry, by the registration's nationality mark (no transponder address needed).

Source: the nationality marks States have notified to ICAO under Annex 7 (Aircraft Nationality and Registration
Marks), each drawn from the radio call-sign series the ITU allocates to the State; written here by the project as
ISO 3166-1 alpha-2 codes, one State or territory per mark. No installed package holds the marks as a lookup:
`rs1090` knows them only behind an ICAO 24-bit address (its answer is the address block's State, refined by the
registration), so an aircraft without an address needs this table. Where a territory keeps its own register
under a mark of its own (Bermuda VP-B/VQ-B, the Cayman Islands VP-C, Aruba P4-, the Isle of Man M-, Hong Kong
B-H/B-K/B-L, Macau B-M, ...) the territory is named, as rs1090 names it for aircraft with an address; a register
shared under one mark takes the State's name (HB-: Switzerland, with Liechtenstein; OY-: Denmark, with Greenland
and the Faroe Islands; F-O: France's overseas register).

Reading a registration (trimmed, upper case):
- most marks are written with a hyphen (`G-EUUA`, `9H-AMH`, `A9C-FC`, `RDPL-34001`): the mark is the registration
  up to its hyphen, or a longer mark that includes the first letter after it (`B-HNR`, `VP-BGS`); longest first;
- `NO_HYPHEN_MARKS` are written without one (`N801AC`, `JA01WJ`, `HL7202`, `HI1078`, `UK32020`, `YV3545`): they
  match only when a digit follows the mark, so that no word or military serial reads as a registration;
- Taiwan shares China's `B-` and is told apart by its five digits (`B-18001`; China's are four characters).
Anything else (military serials such as `61-0290` or `ZE628`, FLARM ids, `TEST`) has no state.
"""

from __future__ import annotations

import re

from etl.reference.countries import countries_by_code

# ISO 3166-1 alpha-2 code -> its nationality marks (space separated), as registrations write them.
_BY_STATE: dict[str, str] = {
    "AD": "C3-",
    "AE": "A6-",
    "AF": "YA-",
    "AG": "V2-",
    "AI": "VP-A",
    "AL": "ZA-",
    "AM": "EK-",
    "AO": "D2-",
    "AR": "LV- LQ-",
    "AT": "OE-",
    "AU": "VH-",
    "AW": "P4-",
    "AZ": "4K-",
    "BA": "E7- T9-",
    "BB": "8P-",
    "BD": "S2- S3-",
    "BE": "OO-",
    "BF": "XT-",
    "BG": "LZ-",
    "BH": "A9C-",
    "BI": "9U-",
    "BJ": "TY-",
    "BM": "VP-B VQ-B VR-B",
    "BN": "V8-",
    "BO": "CP-",
    "BQ": "PJ-",  # Curacao, Sint Maarten and the Caribbean Netherlands' common register; rs1090's name for it
    "BR": "PP- PR- PS- PT- PU-",
    "BS": "C6-",
    "BT": "A5-",
    "BW": "A2-",
    "BY": "EW-",
    "BZ": "V3-",
    "CA": "C- CF-",
    "CD": "9Q- 9S- 9T- 9O-",
    "CF": "TL-",
    "CG": "TN-",
    "CH": "HB-",
    "CI": "TU-",
    "CK": "E5-",
    "CL": "CC-",
    "CM": "TJ-",
    "CN": "B-",
    "CO": "HK- HJ-",
    "CR": "TI-",
    "CU": "CU-",
    "CV": "D4-",
    "CY": "5B-",
    "CZ": "OK-",
    "DE": "D-",
    "DJ": "J2-",
    "DK": "OY-",
    "DM": "J7-",
    "DO": "HI",
    "DZ": "7T-",
    "EC": "HC-",
    "EE": "ES-",
    "EG": "SU-",
    "ER": "E3-",
    "ES": "EC- EM-",
    "ET": "ET-",
    "FI": "OH-",
    "FJ": "DQ-",
    "FK": "VP-F",
    "FM": "V6-",
    "FR": "F-",
    "GA": "TR-",
    "GB": "G-",
    "GD": "J3-",
    "GE": "4L-",
    "GG": "2-",
    "GH": "9G-",
    "GI": "VP-G",
    "GM": "C5-",
    "GN": "3X-",
    "GQ": "3C-",
    "GR": "SX-",
    "GT": "TG-",
    "GW": "J5-",
    "GY": "8R-",
    "HK": "B-H B-K B-L",
    "HN": "HR-",
    "HR": "9A-",
    "HT": "HH- HH",
    "HU": "HA-",
    "ID": "PK-",
    "IE": "EI- EJ-",
    "IL": "4X-",
    "IM": "M-",
    "IN": "VT-",
    "IQ": "YI-",
    "IR": "EP-",
    "IS": "TF-",
    "IT": "I-",
    "JE": "ZJ-",
    "JM": "6Y-",
    "JO": "JY-",
    "JP": "JA",
    "KE": "5Y-",
    "KG": "EX-",
    "KH": "XU-",
    "KI": "T3-",
    "KM": "D6-",
    "KN": "V4-",
    "KP": "P-",
    "KR": "HL",
    "KW": "9K-",
    "KY": "VP-C",
    "KZ": "UP-",
    "LA": "RDPL-",
    "LB": "OD-",
    "LC": "J6-",
    "LK": "4R-",
    "LR": "A8-",
    "LS": "7P-",
    "LT": "LY-",
    "LU": "LX-",
    "LV": "YL-",
    "LY": "5A-",
    "MA": "CN-",
    "MC": "3A-",
    "MD": "ER-",
    "ME": "4O-",
    "MG": "5R-",
    "MH": "V7-",
    "MK": "Z3-",
    "ML": "TZ-",
    "MM": "XY- XZ-",
    "MN": "JU-",
    "MO": "B-M",
    "MR": "5T-",
    "MS": "VP-M",
    "MT": "9H-",
    "MU": "3B-",
    "MV": "8Q-",
    "MW": "7Q-",
    "MX": "XA- XB- XC-",
    "MY": "9M-",
    "MZ": "C9-",
    "NA": "V5-",
    "NE": "5U-",
    "NG": "5N-",
    "NI": "YN-",
    "NL": "PH-",
    "NO": "LN-",
    "NP": "9N-",
    "NR": "C2-",
    "NZ": "ZK- ZL- ZM-",
    "OM": "A4O-",
    "PA": "HP-",
    "PE": "OB-",
    "PG": "P2-",
    "PH": "RP-",
    "PK": "AP-",
    "PL": "SP- SN-",
    "PT": "CS- CR-",
    "PW": "T8A- T8-",
    "PY": "ZP-",
    "QA": "A7-",
    "RO": "YR-",
    "RS": "YU-",
    "RU": "RA- RF-",
    "RW": "9XR-",
    "SA": "HZ-",
    "SB": "H4-",
    "SC": "S7-",
    "SD": "ST-",
    "SE": "SE-",
    "SG": "9V-",
    "SH": "VQ-H",
    "SI": "S5-",
    "SK": "OM-",
    "SL": "9L-",
    "SM": "T7-",
    "SN": "6V- 6W-",
    "SO": "6O-",
    "SR": "PZ-",
    "SS": "Z8-",
    "ST": "S9-",
    "SV": "YS-",
    "SY": "YK-",
    "SZ": "3DC- 3D-",
    "TC": "VQ-T",
    "TD": "TT-",
    "TG": "5V-",
    "TH": "HS-",
    "TJ": "EY-",
    "TL": "4W-",
    "TM": "EZ-",
    "TN": "TS-",
    "TO": "A3-",
    "TR": "TC-",
    "TT": "9Y-",
    "TV": "T2-",
    "TZ": "5H-",
    "UA": "UR-",
    "UG": "5X-",
    "US": "N",
    "UY": "CX-",
    "UZ": "UK",
    "VC": "J8-",
    "VE": "YV",
    "VG": "VP-L",
    "VN": "VN-",
    "VU": "YJ-",
    "WS": "5W-",
    "XK": "Z6-",
    "YE": "7O-",
    "ZA": "ZS- ZT- ZU-",
    "ZM": "9J-",
    "ZW": "Z-",
}

# Marks written without a hyphen: the registration goes on with digits (N801AC, JA01WJ, HL7202, HI1078 ...).
NO_HYPHEN_MARKS: frozenset[str] = frozenset({"N", "JA", "HL", "HI", "HH", "UK", "YV"})
# Taiwan's register: China's B- followed by five digits.
_TAIWAN = re.compile(r"B-\d{5}")

SOURCE = "project table of ICAO Annex 7 nationality marks (ISO 3166-1 codes)"


def _marks() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, marks in _BY_STATE.items():
        for mark in marks.split():
            if mark in table:
                raise ValueError(f"nationality mark {mark} listed twice")
            table[mark] = code
    return table


NATIONALITY_MARKS: dict[str, str] = _marks()
"""Nationality mark -> ISO 3166-1 alpha-2 code of the State (or territory) of registry."""
# Longest first: B-H (Hong Kong) before B- (China), VP-B (Bermuda) before any shorter mark.
_BY_LENGTH: tuple[str, ...] = tuple(sorted(NATIONALITY_MARKS, key=lambda m: (-len(m), m)))


def state_code(registration: str | None) -> str | None:
    """The ISO alpha-2 code of a registration's State of registry, by its nationality mark; None when none reads."""
    text = (registration or "").strip().upper()
    if _TAIWAN.fullmatch(text):
        return "TW"
    for mark in _BY_LENGTH:
        if not text.startswith(mark) or len(text) == len(mark):
            continue
        if mark in NO_HYPHEN_MARKS and not text[len(mark)].isdigit():
            continue
        return NATIONALITY_MARKS[mark]
    return None


def state_of_registry(registration: str | None) -> str | None:
    """A registration's State of registry by its nationality mark, named as the job names countries; or None."""
    code = state_code(registration)
    country = countries_by_code().get(code) if code else None
    return country.name if country is not None else None
