"""A registration's State of registry by its nationality mark, with no transponder address.

Facts written here by hand: ICAO Annex 7 nationality marks (9H- Malta, 4X- Israel, VH- Australia, N United States,
JA Japan, HL South Korea, B- China with Hong Kong's B-H/B-K/B-L, Macau's B-M and Taiwan's five-digit B-nnnnn,
VP-B/VQ-B Bermuda, 2- Guernsey, A9C- Bahrain, RDPL- Laos), and registrations as real captures show them.
"""

from __future__ import annotations

import re

import pytest

from etl.reference.countries import countries_by_code, resolve_countries
from etl.reference.marks import NATIONALITY_MARKS, NO_HYPHEN_MARKS, state_code, state_of_registry


@pytest.mark.parametrize(
    ("registration", "state"),
    [
        ("9H-AMH", "Malta"),
        ("9H-647FX", "Malta"),
        ("4X-EKA", "Israel"),
        ("VH-ZNJ", "Australia"),
        ("N801AC", "United States"),
        ("N95797", "United States"),
        ("JA822J", "Japan"),
        ("HL8387", "South Korea"),
        ("G-ECLB", "United Kingdom"),
        ("D-AIKA", "Germany"),
        ("D-0042", "Germany"),  # a glider
        ("B-1017", "China"),
        ("B-32DA", "China"),
        ("B-HNR", "Hong Kong"),
        ("B-KQA", "Hong Kong"),
        ("B-LNZ", "Hong Kong"),
        ("B-MAC", "Macau"),
        ("B-18001", "Taiwan"),
        ("VP-BGS", "Bermuda"),
        ("VQ-BWY", "Bermuda"),
        ("VP-CAB", "Cayman Islands"),
        ("2-ABCD", "Guernsey"),
        ("M-ABCD", "Isle of Man"),
        ("A9C-FC", "Bahrain"),
        ("A4O-MA", "Oman"),
        ("9XR-WY", "Rwanda"),
        ("RDPL-34001", "Laos"),
        ("C-FAJA", "Canada"),
        ("CC-AYB", "Chile"),
        ("UK32020", "Uzbekistan"),
        ("HI1078", "Dominican Republic"),
        (" ec-jdm ", "Spain"),  # trimmed, any case
    ],
)
def test_state_of_registry_by_nationality_mark(registration: str, state: str):
    assert state_of_registry(registration) == state


@pytest.mark.parametrize(
    "registration",
    [
        "61-0290",  # a USAF serial: no State's mark is all digits
        "02-0042",
        "ZE628",  # a British military serial: Z- (Zimbabwe) needs its hyphen
        "A34-004",
        "TEST",
        "NAVY1",  # N must be followed by a digit
        "JAPAN",
        "HL-C257",
        "HA50-71",  # not HA- (Hungary)
        "RPT-1",
        "00000000",
        "",
        None,
        "N",  # a mark alone is no registration
        "B-",
    ],
)
def test_no_state_for_what_is_no_civil_registration(registration: str | None):
    assert state_code(registration) is None


def test_every_mark_names_a_country_the_job_knows():
    by_code = countries_by_code()
    assert {code for code in NATIONALITY_MARKS.values() if code not in by_code} == set()
    assert NO_HYPHEN_MARKS <= set(NATIONALITY_MARKS)


def _rs1090_blocks() -> dict[tuple[str, str], str]:
    """(country, registration pattern) -> one address of each rs1090 address block that has a pattern."""
    import rs1090

    blocks: dict[tuple[str, str], str] = {}
    for start in range(0, 1 << 24, 0x400):  # ICAO allocates address blocks of 1,024 addresses or more
        info = rs1090.aircraft_information(f"{start:06x}")
        if info.get("pattern"):
            blocks.setdefault((info["country"], info["pattern"]), f"{start:06x}")
    return blocks


def test_marks_agree_with_rs1090_wherever_rs1090_reads_the_same_registration():
    """For each mark, a registration written with it: in every rs1090 address block whose pattern accepts it,
    rs1090 names the same State; and every State rs1090 gives a pattern to has a mark here."""
    import rs1090

    samples = {"B-18001"} | {
        f"{mark}123" if mark in NO_HYPHEN_MARKS else f"{mark}ABC" if mark.endswith("-") else f"{mark}AB"
        for mark in NATIONALITY_MARKS
    }
    blocks = _rs1090_blocks()
    names = resolve_countries({country for country, _ in blocks})
    disagree, covered = [], set()
    for (country, pattern), address in blocks.items():
        for registration in samples:
            if not re.match(pattern, registration):
                continue
            if registration == "B-18001" and country != "Taiwan":
                continue  # China's block holds no Taiwanese aircraft: rs1090 tells them apart by address alone
            answer = resolve_countries([rs1090.aircraft_information(address, registration)["country"]])
            rs_code = next(iter(answer.values())).iso2 if any(answer.values()) else None  # type: ignore[union-attr]
            if rs_code != state_code(registration):
                disagree.append((registration, country, rs_code, state_code(registration)))
            if names.get(country) is not None:
                covered.add(country)
    assert disagree == []
    assert {c for c, _ in blocks if names.get(c) is not None} - covered == set()
