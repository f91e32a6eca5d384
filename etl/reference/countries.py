"""Country spellings -> one country (ISO 3166-1 alpha-2 code, short name) and its continent, with `country_converter`.

Source: the `country_converter` package (coco), which ships its country data file (no network): its regular
expressions read ISO codes (alpha-2, alpha-3, numeric) and the many ways a country is written (FR24's airport list
writes names, airportsdata ISO codes, rs1090 its own names), its `name_short` is the country's spelling everywhere
in the job's output, and its `Continent_7` classification gives the continent.

Where coco and the table this project kept before disagree, coco is followed (README, "Reference data"): Cyprus
-> Europe (was Asia, UN M49); Christmas Island and the Cocos (Keeling) Islands -> Asia, the British Indian Ocean
Territory -> Asia, Bouvet Island, the French Southern Territories and Heard and McDonald Islands -> Antarctica.
For the countries on two continents both agree: Russia -> Europe, Turkey, Kazakhstan, Georgia, Armenia, Azerbaijan
-> Asia, Egypt -> Africa, Panama -> North America. So `CONTINENT_OVERRIDES` is empty; it is where a decision to
differ would go.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from etl.core.columns import CONTINENTS
from etl.core.errors import ReferenceDataError

# Spellings seen in country lists that coco does not read, written here -> ISO alpha-2 code.
SPELLING_OVERRIDES: dict[str, str] = {
    "uae": "AE",  # the common abbreviation of the United Arab Emirates
    "netherlands antilles": "BQ",  # dissolved in 2010; old lists still use it for Bonaire, Sint Eustatius, Saba
}
# ISO alpha-2 code -> continent, where the project decides differently from coco's Continent_7 (none today).
CONTINENT_OVERRIDES: dict[str, str] = {}


class Country(NamedTuple):
    """One country: ISO 3166-1 alpha-2 code (XK for Kosovo), coco's short name, continent."""

    iso2: str
    name: str
    continent: str


def spelling_key(text: str) -> str:
    """The lookup key of a country spelling: trimmed, lower case, inner spaces collapsed (as `country_key`)."""
    return " ".join(text.lower().split())


@lru_cache(maxsize=1)
def _converter() -> Any:
    import country_converter as coco

    # coco logs a warning for every spelling it does not know; here that only means "no country".
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    try:
        return coco.CountryConverter()
    except Exception as exc:  # e.g. a pandas it does not support (see pyproject.toml)
        raise ReferenceDataError(f"countries: country_converter cannot load its data: {exc}") from None


@lru_cache(maxsize=1)
def countries_by_code() -> dict[str, Country]:
    """Every country coco knows, by ISO alpha-2 code."""
    table = {}
    for row in _converter().data[["ISO2", "name_short", "Continent_7"]].itertuples(index=False):
        # A few ISO2 cells are regular expressions that also accept an old code ("^GB$|^UK$"): the first is ISO's.
        match = re.match(r"\^?([A-Z]{2})\b", str(row.ISO2))
        if match is None:
            raise ReferenceDataError(f"countries: country_converter lists an unreadable ISO2 code {row.ISO2!r}")
        code = match.group(1)
        continent = CONTINENT_OVERRIDES.get(code, str(row.Continent_7))
        if continent not in CONTINENTS:
            raise ReferenceDataError(f"countries: country_converter gives {code} the continent {continent!r}")
        table[code] = Country(code, str(row.name_short), continent)
    return table


@lru_cache(maxsize=4096)
def _resolve_one(key: str) -> Country | None:
    by_code = countries_by_code()
    if key in SPELLING_OVERRIDES:
        return by_code[SPELLING_OVERRIDES[key]]
    if len(key) == 2 and key.upper() in by_code:  # the common case (airportsdata): no regular expression needed
        return by_code[key.upper()]
    code = _converter().convert(key, to="ISO2", not_found="")
    return by_code.get(code) if isinstance(code, str) else None  # a list: the spelling names several countries


def resolve_countries(spellings: Iterable[str | None]) -> dict[str, Country | None]:
    """Each spelling -> its Country, or None when coco (and SPELLING_OVERRIDES) cannot tell which country it is."""
    return {s: _resolve_one(spelling_key(s)) for s in spellings if s is not None and spelling_key(s)}


def resolve_country(spelling: str) -> Country | None:
    """One spelling -> its Country, or None."""
    return resolve_countries([spelling]).get(spelling)
