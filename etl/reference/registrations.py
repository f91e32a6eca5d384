"""Country of registration of an aircraft, from its ICAO 24-bit address and registration, with `rs1090`.

Source: `rs1090.aircraft_information(icao24, registration)`: the state an address block is allocated to (ICAO
Annex 10 Vol. III), refined by the registration's nationality mark where one block serves several registers (for
example China's block also holds Hong Kong's B-H/B-K/B-L and Macau's B-M aircraft). Its country names are read by
`country_converter` (`etl.reference.countries`); "Unknown", "Unassigned" and ICAO's own blocks give no country.
An aircraft without an address (many recorded captures keep none), or whose address gives no country, takes the
State of its registration's nationality mark (`etl.reference.marks`); `registration_source` says which answered
(`address` or `mark`).

Why on the driver and not in Spark: rs1090 is a Python binding to a Rust library, and the job uses no Python UDFs.
Its answer depends on the registration as well as on the address (the sub-registers above live inside the
library), so a table of address ranges derived from it would be wrong for those aircraft. Instead the distinct
(address, registration) pairs of the snapshot's aircraft that need it are collected to the driver (at most tens
of thousands of short strings: a world snapshot holds 10,000-20,000 flights), asked to rs1090 there (about 15 µs
each), and the answers go back as a small table that enrich broadcast-joins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.reference.countries import resolve_countries
from etl.reference.marks import state_of_registry

# icao_24bit is "" for an aircraft without an address; registration_source is ADDRESS, MARK, or null (no country).
REGISTRATION_COUNTRY_COLUMNS: tuple[str, ...] = (
    "icao_24bit",
    "registration_key",
    "registration_country",
    "registration_source",
)
ADDRESS, MARK = "address", "mark"
_ADDRESS = re.compile(r"[0-9A-F]{6}")  # FLARM and other non-ICAO ids (8 hex digits, ...) have no register


def registration_key(registration: F.Column) -> F.Column:
    """The join key of a registration: trimmed, upper case, "" when there is none (null never joins)."""
    return F.coalesce(F.upper(F.trim(registration)), F.lit(""))


def address_key(address: F.Column) -> F.Column:
    """The join key of an ICAO 24-bit address: trimmed, upper case, "" when there is none (null never joins)."""
    return F.coalesce(F.upper(F.trim(address)), F.lit(""))


def _rs1090_country(address: str, registration: str) -> str | None:
    import rs1090

    try:
        info = rs1090.aircraft_information(address.lower(), registration or None)
    except ValueError:  # an address rs1090 cannot read
        return None
    return info.get("country")


def registration_countries(
    pairs: Iterable[tuple[str, str]],
) -> list[tuple[str, str, str | None, str | None]]:
    """(icao_24bit, registration key) pairs -> the same with the country of registration and what gave it.

    The address first (rs1090); when it is missing or gives no country, the registration's nationality mark.
    """
    answers = []
    for address, registration in pairs:
        address = (address or "").strip().upper()
        country = _rs1090_country(address, registration) if _ADDRESS.fullmatch(address) else None
        answers.append((address, registration, country))
    resolved = resolve_countries({name for _, _, name in answers if name})
    rows: list[tuple[str, str, str | None, str | None]] = []
    for address, registration, name in answers:
        country = _name(resolved.get(name)) if name else None
        if country is not None:
            rows.append((address, registration, country, ADDRESS))
            continue
        by_mark = state_of_registry(registration)
        rows.append((address, registration, by_mark, MARK if by_mark else None))
    return rows


def _name(country: object) -> str | None:
    return getattr(country, "name", None)


def registration_country_table(spark: SparkSession, aircraft: DataFrame) -> DataFrame:
    """Distinct (icao_24bit, registration) of `aircraft` -> REGISTRATION_COUNTRY_COLUMNS, asked on the driver."""
    pairs = (
        aircraft.where(F.col("icao_24bit").isNotNull() | F.col("registration").isNotNull())
        .select(
            address_key(F.col("icao_24bit")).alias("icao_24bit"),
            registration_key(F.col("registration")).alias("k"),
        )
        .distinct()
        .collect()
    )
    rows = registration_countries((row["icao_24bit"], row["k"]) for row in pairs)
    return spark.createDataFrame(rows, ", ".join(f"{c} string" for c in REGISTRATION_COUNTRY_COLUMNS))
