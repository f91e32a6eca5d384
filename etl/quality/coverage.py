"""What the quality gate measures of the references: each mapping's coverage of a slot's live flights, and where
its airlines' countries come from, in one Spark job per measure for any number of slots.

The population is the enriched live flights (etl.transform.enrich), the same rows the KPIs rank; the gate
(etl.quality.gate.gate) judges the counts against the floors.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

from etl.reference import References
from etl.transform.clean import TRACK_TYPES
from etl.transform.enrich import (
    SLOT_KEY,
    SOURCE_REGISTRATION_MARKS,
    SOURCE_REGISTRATIONS,
    SOURCE_TABLE,
    enrich_live_flights,
    slot_keys,
)


def _coverage_checks() -> dict[str, tuple[Column, tuple[str, ...]]]:
    """Each mapping's resolved-test, and the columns a live flight carries when the mapping has a code to resolve."""
    return {
        "origin_airport": (F.col("_origin_known"), ("origin_iata",)),
        "destination_airport": (F.col("_destination_known"), ("destination_iata",)),
        "route_distance": (F.col("_origin_known") & F.col("_destination_known"), ("origin_iata", "destination_iata")),
        "origin_continent": (F.col("origin_continent").isNotNull(), ("origin_iata",)),
        "destination_continent": (F.col("destination_continent").isNotNull(), ("destination_iata",)),
        "airline_name": (F.col("airline_name").isNotNull(), ("airline_icao",)),
        "airline_country": (F.col("airline_country").isNotNull(), ("airline_icao",)),
        # The parts of airline_country: from the project airline table, from the aircraft's registrations read by
        # their addresses, from the registrations' nationality marks alone (aircraft without a usable address).
        "airline_country_from_table": (F.col("airline_country_source") == F.lit(SOURCE_TABLE), ("airline_icao",)),
        "airline_country_from_registrations": (
            F.col("airline_country_source") == F.lit(SOURCE_REGISTRATIONS),
            ("airline_icao",),
        ),
        "airline_country_from_registration_marks": (
            F.col("airline_country_source") == F.lit(SOURCE_REGISTRATION_MARKS),
            ("airline_icao",),
        ),
        "aircraft_manufacturer": (F.col("manufacturer").isNotNull(), ("_type_designator",)),
        "aircraft_model": (F.col("aircraft_model").isNotNull(), ("_type_designator",)),
    }


def mapping_coverage_counts(silver: DataFrame, refs: References) -> dict[str, tuple[int, int]]:
    """Per mapping, (live flights it resolves, live flights carrying the code it maps); `_live` = all live flights.

    The denominator is the live flights that carry the code (an origin IATA or ICAO code, an airline ICAO code,
    ...): a flight the feed sends without one has nothing to resolve, and says nothing about the reference's
    coverage. An airport counts as resolved when either of its codes finds it (`etl.transform.enrich.with_airports`).
    """
    rows = _coverage_rows(silver, refs)
    return _counts(rows[0] if rows else None)


def mapping_coverage_counts_by_slot(
    silver: DataFrame, refs: References, slots: Iterable[str] = (), live: DataFrame | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """mapping_coverage_counts per slot of rows carrying SLOT_KEY, in one Spark job (from `live` when given: the
    enriched live flights of `silver`).

    A slot of `slots` with no live flight gets zero counts, as mapping_coverage_counts gives a run without one.
    """
    counts = {row[SLOT_KEY]: _counts(row) for row in _coverage_rows(silver, refs, live)}
    return {**{slot: _counts(None) for slot in slots}, **counts}


def _counts(row: Row | None) -> dict[str, tuple[int, int]]:
    values = row.asDict() if row is not None else {}
    total = int(values.get("_live") or 0)
    counts = {"_live": (total, total)}
    for name in _coverage_checks():
        counts[name] = (int(values.get(f"{name}__resolved") or 0), int(values.get(f"{name}__carrying") or 0))
    return counts


def _coverage_rows(silver: DataFrame, refs: References, live: DataFrame | None = None) -> list[Row]:
    # GLID, 0000 and the other track markers are no ICAO type designator: there is nothing for the type table to
    # resolve (a live glider is still a live flight, with no manufacturer).
    code = F.col("aircraft_code")
    live = _live_with_flags(silver, refs, live).withColumn(
        "_type_designator", F.when(~code.isin(*TRACK_TYPES, "0000"), code)
    )
    aggregates = [F.count(F.lit(1)).alias("_live")]
    for name, (check, carriers) in _coverage_checks().items():
        carrying = F.lit(True)
        for column in carriers:
            carrying = carrying & F.col(column).isNotNull()
        aggregates.append(F.sum(F.when(carrying & check, 1).otherwise(0)).alias(f"{name}__resolved"))
        aggregates.append(F.sum(F.when(carrying, 1).otherwise(0)).alias(f"{name}__carrying"))
    return live.groupBy(*slot_keys(live)).agg(*aggregates).collect()


def airline_country_sources(silver: DataFrame, refs: References) -> dict[str, int]:
    """Airlines with live flights by where their country comes from: table, registrations, registration_marks, none."""
    rows = _source_rows(silver, refs)
    return _sources(rows)


def airline_country_sources_by_slot(
    silver: DataFrame, refs: References, live: DataFrame | None = None
) -> dict[str, dict[str, int]]:
    """airline_country_sources per slot of rows carrying SLOT_KEY, in one Spark job (no airline: slot absent), from
    `live` when given (the enriched live flights of `silver`)."""
    by_slot: dict[str, list[Row]] = {}
    for row in _source_rows(silver, refs, live):
        by_slot.setdefault(row[SLOT_KEY], []).append(row)
    return {slot: _sources(rows) for slot, rows in by_slot.items()}


def _sources(rows: list[Row]) -> dict[str, int]:
    counts = {row["source"]: int(row["airlines"]) for row in rows}
    sources = (SOURCE_TABLE, SOURCE_REGISTRATIONS, SOURCE_REGISTRATION_MARKS, "none")
    return {source: counts.get(source, 0) for source in sources}


def _source_rows(silver: DataFrame, refs: References, live: DataFrame | None = None) -> list[Row]:
    live = (enrich_live_flights(silver, refs) if live is None else live).where(F.col("airline_icao").isNotNull())
    keys = slot_keys(live)
    source = F.coalesce("airline_country_source", F.lit("none")).alias("source")
    per_airline = live.select(*keys, "airline_icao", source).distinct()
    return per_airline.groupBy(*keys, "source").agg(F.count(F.lit(1)).alias("airlines")).collect()


def _live_with_flags(silver: DataFrame, refs: References, live: DataFrame | None = None) -> DataFrame:
    # origin_iata / destination_iata carry the flight's airport code (IATA, else ICAO): the coverage denominators.
    enriched = enrich_live_flights(silver, refs) if live is None else live
    return enriched.withColumnsRenamed({"origin_known": "_origin_known", "destination_known": "_destination_known"})
