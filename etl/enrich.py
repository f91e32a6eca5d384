"""Enrich: silver flights -> live flights joined to airports, airlines and aircraft types, with route distances.

A live flight is an airborne (`on_ground` false) track of an aircraft (`is_aircraft`) in the snapshot; a track
whose on_ground is unknown is not counted as airborne. Reference tables are small and broadcast. A code the
reference does not know leaves its columns null (the KPIs then leave that flight out of what needs them).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from etl.reference import References

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
# A backfill reads many slots at once and tags each row with its slot under this column; enrich carries it through
# and the KPIs group and rank within it. One slot's run has no such column, so its plans are unchanged.
SLOT_KEY = "run_slot"

ENRICHED_COLUMNS: tuple[str, ...] = (
    "flight_id",
    "callsign",
    "airline_icao",
    "airline_name",
    "airline_country",
    "aircraft_code",
    "manufacturer",
    "aircraft_model",
    "origin_iata",
    "origin_continent",
    "destination_iata",
    "destination_continent",
    "distance_km",
)


def haversine_km(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    """Great-circle distance in km between two points in degrees (null when any input is null)."""
    phi1, phi2 = F.radians(lat1), F.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = F.radians(lon2 - lon1) / 2  # sin^2 is periodic: crossing the antimeridian needs no care
    a = F.pow(F.sin(half_dphi), 2) + F.cos(phi1) * F.cos(phi2) * F.pow(F.sin(half_dlambda), 2)
    # Rounding can push `a` a hair above 1 for antipodes; F.least would also turn a null into 1, hence when().
    a = F.when(a > 1.0, F.lit(1.0)).otherwise(a)
    return F.lit(2 * EARTH_RADIUS_KM) * F.asin(F.sqrt(a))


def is_live(on_ground: Column, is_aircraft: Column) -> Column:
    """True for an airborne aircraft track."""
    return F.coalesce(is_aircraft & (on_ground == F.lit(False)), F.lit(False))


def filter_live_flights(silver: DataFrame) -> DataFrame:
    """Keep the live flights of a silver snapshot."""
    return silver.where(is_live(F.col("on_ground"), F.col("is_aircraft")))


def with_airports(flights: DataFrame, airports: DataFrame) -> DataFrame:
    """Add origin_/destination_ country, continent, latitude, longitude from the airports table."""
    for end in ("origin", "destination"):
        side = airports.select(
            F.col("iata").alias(f"{end}_iata"),
            F.col("country").alias(f"{end}_country"),
            F.col("continent").alias(f"{end}_continent"),
            F.col("latitude").alias(f"{end}_latitude"),
            F.col("longitude").alias(f"{end}_longitude"),
        )
        flights = flights.join(F.broadcast(side), f"{end}_iata", "left")
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


def with_airline(flights: DataFrame, airlines: DataFrame) -> DataFrame:
    """Add airline_name and airline_country from the airlines table, by airline_icao."""
    return flights.join(
        F.broadcast(airlines.select("airline_icao", "airline_name", "airline_country")), "airline_icao", "left"
    )


def with_aircraft_type(flights: DataFrame, aircraft_types: DataFrame) -> DataFrame:
    """Add manufacturer and aircraft_model from the aircraft types table, by aircraft_code."""
    types = aircraft_types.select("aircraft_code", "manufacturer", "aircraft_model")
    return flights.join(F.broadcast(types), "aircraft_code", "left")


def enrich_live_flights(silver: DataFrame, refs: References) -> DataFrame:
    """The live flights of a silver snapshot with the reference columns the KPIs use (and SLOT_KEY when present)."""
    keys = [SLOT_KEY] if SLOT_KEY in silver.columns else []
    flights = silver.transform(filter_live_flights).select(
        *keys, "flight_id", "callsign", "airline_icao", "aircraft_code", "origin_iata", "destination_iata"
    )
    return (
        flights.transform(with_airports, refs.airports)
        .transform(with_route_distance)
        .transform(with_airline, refs.airlines)
        .transform(with_aircraft_type, refs.aircraft_types)
        .select(*keys, *ENRICHED_COLUMNS)
    )
