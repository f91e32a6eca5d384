"""Enrich: silver flights -> live flights joined to airports, airlines and aircraft types, with route distances.

A live flight is an airborne (`on_ground` false) track of an aircraft (`is_aircraft`) in the snapshot; a track
whose on_ground is unknown is not counted as airborne. Reference tables are small and broadcast. A code the
reference does not know leaves its columns null (the KPIs then leave that flight out of what needs them).

Airline country: the project airline table is the authority for the airlines it lists (`airline_country_source`
"table"). Any other airline takes the country of registration of its aircraft seen in the same snapshot (every
track of the airline counts, on the ground too): the country of at least two thirds of its distinct aircraft (by
ICAO 24-bit address, or by registration for an aircraft without one) whose country is known, so one aircraft
decides alone, two must agree, three to five need all but one, six need four... An aircraft's country is its
address's (rs1090), else its registration's nationality mark (`etl.reference.registrations`). The source is
"registrations" when an aircraft's address gave the winning country, "registration_marks" when only nationality
marks did (a capture without addresses). An airline with no such majority has no country (source null).
Measured on the 13 real captures (README, "Reference data"): requiring two aircraft instead of one resolves 95.0
to 97.4 % of airline flights instead of 99.8 to 100 %, as most small operators show one aircraft in a 1,500-flight
capture. As a check of the rule, on the airlines the table knows the registrations' country matched the table's
for 77 % of those seen with one aircraft and 95 % of those seen with two or more and a majority: leased and
wet-leased fleets make the difference, hence `etl.reference.airlines.LEASED_FLEETS` for the ones seen.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from etl.reference import References
from etl.reference.registrations import ADDRESS, address_key, registration_key
from etl.transform.geo import haversine_km

# A backfill reads many slots at once and tags each row with its slot under this column; enrich carries it through
# and the KPIs group and rank within it. One slot's run has no such column, so its plans are unchanged.
SLOT_KEY = "run_slot"
# An airline's registrations give its country when at least MAJORITY_NUM / MAJORITY_DEN of its aircraft agree.
MAJORITY_NUM, MAJORITY_DEN = 2, 3
SOURCE_TABLE, SOURCE_REGISTRATIONS, SOURCE_REGISTRATION_MARKS = "table", "registrations", "registration_marks"

ENRICHED_COLUMNS: tuple[str, ...] = (
    "flight_id",
    "callsign",
    "airline_icao",
    "airline_name",
    "airline_country",
    "airline_country_source",
    "aircraft_code",
    "manufacturer",
    "aircraft_model",
    "origin_iata",
    "origin_continent",
    "destination_iata",
    "destination_continent",
    "distance_km",
    "origin_known",
    "destination_known",
)
# Silver's airport ICAO codes: an airport is looked up by its IATA code, then by these.
AIRPORT_ICAO_COLUMNS: tuple[str, ...] = ("origin_icao", "destination_icao")


def is_live(on_ground: Column, is_aircraft: Column) -> Column:
    """True for an airborne aircraft track."""
    return F.coalesce(is_aircraft & (on_ground == F.lit(False)), F.lit(False))


def filter_live_flights(silver: DataFrame) -> DataFrame:
    """Keep the live flights of a silver snapshot."""
    return silver.where(is_live(F.col("on_ground"), F.col("is_aircraft")))


def with_airports(flights: DataFrame, airports: DataFrame, airports_by_icao: DataFrame | None = None) -> DataFrame:
    """Add origin_/destination_ country, continent, latitude, longitude and known (the airport is in a table).

    An airport is looked up by its IATA code in `airports`, then, when that finds nothing and the flights carry
    origin_icao / destination_icao, by its ICAO code in `airports_by_icao`. A flight without an IATA code whose
    airport is found by ICAO code takes that airport's IATA code as origin_/destination_iata, or its ICAO code when
    the airport has none (an airfield), so that every KPI counts it under one code.
    """
    fields = ("country", "continent", "latitude", "longitude")
    for end in ("origin", "destination"):
        code, icao = f"{end}_iata", f"{end}_icao"
        side = airports.select(
            F.col("iata").alias(code), F.lit(True).alias("_by_iata"), *(F.col(f).alias(f"_a_{f}") for f in fields)
        )
        flights = flights.join(F.broadcast(side), code, "left")
        by_iata = F.coalesce(F.col("_by_iata"), F.lit(False))
        if airports_by_icao is None or icao not in flights.columns:
            flights = flights.select(
                *(c for c in flights.columns if not c.startswith(("_a_", "_by_"))),
                *(F.col(f"_a_{f}").alias(f"{end}_{f}") for f in fields),
                by_iata.alias(f"{end}_known"),
            )
            continue
        by_code = airports_by_icao.select(
            F.col("icao").alias(icao),
            F.lit(True).alias("_by_icao"),
            F.col("iata").alias("_i_iata"),
            *(F.col(f).alias(f"_i_{f}") for f in fields),
        )
        flights = flights.join(F.broadcast(by_code), icao, "left")
        by_icao = ~by_iata & F.coalesce(F.col("_by_icao"), F.lit(False))
        flights = flights.select(
            *(c for c in flights.columns if not c.startswith(("_a_", "_i_", "_by_")) and c != code),
            F.coalesce(F.col(code), F.when(by_icao, F.coalesce("_i_iata", icao)), F.col(icao)).alias(code),
            *(F.when(by_icao, F.col(f"_i_{f}")).otherwise(F.col(f"_a_{f}")).alias(f"{end}_{f}") for f in fields),
            (by_iata | by_icao).alias(f"{end}_known"),
        )
    return flights


def with_route_distance(flights: DataFrame) -> DataFrame:
    """Add distance_km between the origin and destination airports (null when either is unknown)."""
    return flights.withColumn(
        "distance_km",
        haversine_km(
            F.col("origin_latitude"),
            F.col("origin_longitude"),
            F.col("destination_latitude"),
            F.col("destination_longitude"),
        ),
    )


def slot_keys(df: DataFrame) -> list[str]:
    """[SLOT_KEY] when the rows carry one (a backfill's many slots), else [] (one slot): the grouping keys."""
    return [SLOT_KEY] if SLOT_KEY in df.columns else []


def airline_countries_from_registrations(aircraft: DataFrame) -> DataFrame:
    """(airline_icao, aircraft_id, registration_country, registration_source) rows -> airline_icao,
    registration_country, registration_source (SOURCE_REGISTRATIONS or SOURCE_REGISTRATION_MARKS), by majority.

    `aircraft_id` tells the aircraft apart (its address, else its registration). With SLOT_KEY, the majority is
    taken within each slot (as the slot's own run would) and SLOT_KEY leads.
    """
    keys = slot_keys(aircraft)
    counted = (
        aircraft.where(F.col("registration_country").isNotNull())
        .groupBy(*keys, "airline_icao", "registration_country")
        .agg(
            F.countDistinct("aircraft_id").alias("_aircraft"),
            F.max(F.col("registration_source") == F.lit(ADDRESS)).alias("_by_address"),
        )
    )
    airline = Window.partitionBy(*keys, "airline_icao")
    shares = counted.withColumn("_fleet", F.sum("_aircraft").over(airline))
    # Integers, not a float ratio: 2 of 3 must pass exactly. At most one country can hold two thirds.
    winners = shares.where(F.col("_aircraft") * MAJORITY_DEN >= F.col("_fleet") * MAJORITY_NUM)
    source = F.when(F.col("_by_address"), F.lit(SOURCE_REGISTRATIONS)).otherwise(F.lit(SOURCE_REGISTRATION_MARKS))
    return winners.select(*keys, "airline_icao", "registration_country", source.alias("registration_source"))


def snapshot_airlines(silver: DataFrame, refs: References) -> DataFrame:
    """The airlines table for this snapshot: airline_icao, airline_name, airline_country, airline_country_source.

    With SLOT_KEY (a backfill), one table per slot, keyed by (SLOT_KEY, airline_icao): each slot's airlines get
    the countries of that slot's own registrations, as its single run would give them.
    """
    keys = slot_keys(silver)
    table = refs.airlines.select("airline_icao", "airline_name", F.col("airline_country").alias("_table_country"))
    countries = refs.registration_countries(silver).select(
        "icao_24bit", F.col("registration_key").alias("_registration"), "registration_country", "registration_source"
    )
    address, registration = address_key(F.col("icao_24bit")), registration_key(F.col("registration"))
    aircraft = silver.where(
        F.col("is_aircraft")
        & F.col("airline_icao").isNotNull()
        & (F.col("icao_24bit").isNotNull() | F.col("registration").isNotNull())
    ).select(
        *keys,
        "airline_icao",
        address.alias("icao_24bit"),
        registration.alias("_registration"),
        # One aircraft, however many tracks: its address, else its registration (never equal to an address).
        F.when(address != "", address).otherwise(F.concat(F.lit("reg:"), registration)).alias("aircraft_id"),
    )
    located = aircraft.join(F.broadcast(countries), ["icao_24bit", "_registration"], "inner")
    by_registrations = airline_countries_from_registrations(located)
    if keys:
        # The table's rows for the airlines each slot shows: per slot, and no bigger than the data. Airlines a slot
        # does not show would only be dropped by with_airline's left join anyway.
        seen = silver.where(F.col("airline_icao").isNotNull()).select(*keys, "airline_icao").distinct()
        table = seen.join(F.broadcast(table), "airline_icao", "inner")
    merged = table.join(by_registrations, [*keys, "airline_icao"], "full")
    return merged.select(
        *keys,
        "airline_icao",
        "airline_name",
        F.coalesce("_table_country", "registration_country").alias("airline_country"),
        F.when(F.col("_table_country").isNotNull(), F.lit(SOURCE_TABLE))
        .otherwise(F.col("registration_source"))
        .alias("airline_country_source"),
    )


def with_airline(flights: DataFrame, airlines: DataFrame) -> DataFrame:
    """Add airline_name, airline_country and airline_country_source from a snapshot airlines table.

    A per-slot table (with SLOT_KEY) joins on (SLOT_KEY, airline_icao) and is left to Spark to broadcast or not.
    """
    keys = slot_keys(airlines)
    columns = [*keys, "airline_icao", "airline_name", "airline_country", "airline_country_source"]
    side = airlines.select(*columns)
    return flights.join(side if keys else F.broadcast(side), [*keys, "airline_icao"], "left")


def with_aircraft_type(flights: DataFrame, aircraft_types: DataFrame) -> DataFrame:
    """Add manufacturer and aircraft_model from the aircraft types table, by aircraft_code."""
    types = aircraft_types.select("aircraft_code", "manufacturer", "aircraft_model")
    return flights.join(F.broadcast(types), "aircraft_code", "left")


def enrich_live_flights(silver: DataFrame, refs: References) -> DataFrame:
    """The live flights of a silver snapshot with the reference columns the KPIs use (and SLOT_KEY when present)."""
    keys = slot_keys(silver)
    icao_codes = [c for c in AIRPORT_ICAO_COLUMNS if c in silver.columns]  # silver written before them has none
    flights = silver.transform(filter_live_flights).select(
        *keys, "flight_id", "callsign", "airline_icao", "aircraft_code", "origin_iata", "destination_iata", *icao_codes
    )
    return (
        flights.transform(with_airports, refs.airports, refs.airports_by_icao)
        .transform(with_route_distance)
        .transform(with_airline, snapshot_airlines(silver, refs))
        .transform(with_aircraft_type, refs.aircraft_types)
        .select(*keys, *ENRICHED_COLUMNS)
    )
