"""The eight gold KPI tables of DESIGN.md, each keeping its whole ranking in a `rank` column (rank 1 = the answer).

Decisions, shared by every table:
- Population: live flights (`etl.transform.enrich`). Each table uses the flights whose fields it needs are known, e.g. a
  flight without an airline ICAO code is left out of the airline tables, an airport not in the reference has
  no continent and its flights are left out of the per-continent tables. Mapping coverage tells how many.
- Ranks are `row_number()` (1, 2, 3, ... with no gaps or shared ranks): ties on the measure are broken by the
  key in ascending order (airline ICAO code, manufacturer name, model name, flight id, continent, airport
  code), so equal inputs always give equal ranks.
- Distances: great-circle (haversine) between the airports, by `etl.transform.geo.haversine_km`. A flight whose origin
  equals its destination (distance 0: a round trip or a placeholder) is left out of the distance tables (longest
  flight, average distance), as it has no route; it still counts everywhere else (live flights, models, airport
  flows, and as a regional flight of its continent).
- Airline with no known country: left out of `top_models_by_airline_country` (no "Unknown" pseudo-country);
  it still counts, by ICAO code, in the other airline tables, with a null name if no list knows it.
- Unknown aircraft type: left out of the manufacturer and model tables.
- Continents: the airport's country's continent (`etl.reference.countries`: one continent per country, by
  country_converter's Continent_7, e.g. Russia -> Europe, Turkey -> Asia); per-continent tables use the origin
  airport's continent.
- `airport_flow_imbalance` counts every airport code seen (name null if the reference does not know it);
  difference = outgoing - incoming, ranked by |difference| desc, then airport code.
- Many slots at once (a backfill): when the rows carry `etl.transform.enrich.SLOT_KEY`, every count, average and ranking
  is per slot (grouped and window-partitioned by it) and every table keeps it as its first column. Without it (one
  slot's run) the tables are exactly as above.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.core.spark_session import keep
from etl.reference import References
from etl.transform.enrich import enrich_live_flights, slot_keys

TOP_MODELS_PER_COUNTRY = 3


def _ranked(df: DataFrame, partition: list[str], *order: Column) -> DataFrame:
    partition = [*slot_keys(df), *partition]  # never one ranking across slots
    window = Window.partitionBy(*partition).orderBy(*order) if partition else Window.orderBy(*order)
    return df.withColumn("rank", F.row_number().over(window))


def _gold(df: DataFrame, name: str) -> DataFrame:
    """The explicit schema contract: the columns, types and order of GOLD_SCHEMAS[name] (after SLOT_KEY if any)."""
    return df.select(*slot_keys(df), *(F.col(c).cast(t).alias(c) for c, t in GOLD_SCHEMAS[name].items()))


def _has_route(live: DataFrame) -> DataFrame:
    return live.where(F.col("distance_km").isNotNull() & (F.col("origin_iata") != F.col("destination_iata")))


def kpi_airline_most_live_flights(live: DataFrame) -> DataFrame:
    """Q1: airlines by live flights."""
    counted = (
        live.where(F.col("airline_icao").isNotNull())
        .groupBy(*slot_keys(live), "airline_icao")
        .agg(F.count(F.lit(1)).alias("live_flights"), F.max("airline_name").alias("airline_name"))
    )
    ranked = _ranked(counted, [], F.col("live_flights").desc(), F.col("airline_icao"))
    return _gold(ranked, "airline_most_live_flights")


def kpi_airline_most_regional_flights_by_continent(live: DataFrame) -> DataFrame:
    """Q2: per continent, airlines by live flights whose origin and destination are on that continent."""
    regional = live.where(
        F.col("airline_icao").isNotNull()
        & F.col("origin_continent").isNotNull()
        & (F.col("origin_continent") == F.col("destination_continent"))
    )
    counted = regional.groupBy(*slot_keys(live), F.col("origin_continent").alias("continent"), "airline_icao").agg(
        F.count(F.lit(1)).alias("regional_flights"), F.max("airline_name").alias("airline_name")
    )
    ranked = _ranked(counted, ["continent"], F.col("regional_flights").desc(), F.col("airline_icao"))
    return _gold(ranked, "airline_most_regional_flights_by_continent")


def kpi_longest_live_flight(live: DataFrame) -> DataFrame:
    """Q3: live flights by route distance."""
    ranked = _ranked(_has_route(live), [], F.col("distance_km").desc(), F.col("flight_id"))
    return _gold(ranked, "longest_live_flight")


def kpi_average_route_distance_by_continent(live: DataFrame) -> DataFrame:
    """Q4: per origin continent, the average route distance of live flights."""
    averaged = (
        _has_route(live)
        .where(F.col("origin_continent").isNotNull())
        .groupBy(*slot_keys(live), F.col("origin_continent").alias("continent"))
        .agg(F.avg("distance_km").alias("avg_distance_km"), F.count(F.lit(1)).alias("flights"))
    )
    ranked = _ranked(averaged, [], F.col("avg_distance_km").desc(), F.col("continent"))
    return _gold(ranked, "average_route_distance_by_continent")


def kpi_manufacturer_most_live_flights(live: DataFrame) -> DataFrame:
    """Q5: aircraft manufacturers by live flights."""
    counted = (
        live.where(F.col("manufacturer").isNotNull())
        .groupBy(*slot_keys(live), "manufacturer")
        .agg(F.count(F.lit(1)).alias("live_flights"))
    )
    ranked = _ranked(counted, [], F.col("live_flights").desc(), F.col("manufacturer"))
    return _gold(ranked, "manufacturer_most_live_flights")


def kpi_top_models_by_airline_country(live: DataFrame) -> DataFrame:
    """Q6: per airline country, the top 3 aircraft models of its airlines' live flights."""
    counted = (
        live.where(F.col("airline_country").isNotNull() & F.col("aircraft_model").isNotNull())
        .groupBy(*slot_keys(live), "airline_country", "aircraft_model")
        .agg(F.count(F.lit(1)).alias("live_flights"))
    )
    ranked = _ranked(counted, ["airline_country"], F.col("live_flights").desc(), F.col("aircraft_model"))
    top = ranked.where(F.col("rank") <= TOP_MODELS_PER_COUNTRY)
    return _gold(top, "top_models_by_airline_country")


def kpi_most_used_model_by_continent(live: DataFrame) -> DataFrame:
    """Q6': per origin continent, aircraft models by live flights."""
    counted = (
        live.where(F.col("origin_continent").isNotNull() & F.col("aircraft_model").isNotNull())
        .groupBy(*slot_keys(live), F.col("origin_continent").alias("continent"), "aircraft_model")
        .agg(F.count(F.lit(1)).alias("live_flights"))
    )
    ranked = _ranked(counted, ["continent"], F.col("live_flights").desc(), F.col("aircraft_model"))
    return _gold(ranked, "most_used_model_by_continent")


def kpi_airport_flow_imbalance(live: DataFrame, airports: DataFrame) -> DataFrame:
    """Bonus: airports by |outgoing - incoming| live flights."""
    outgoing = (
        live.where(F.col("origin_iata").isNotNull())
        .groupBy(*slot_keys(live), F.col("origin_iata").alias("airport_iata"))
        .agg(F.count(F.lit(1)).alias("outgoing"))
    )
    incoming = (
        live.where(F.col("destination_iata").isNotNull())
        .groupBy(*slot_keys(live), F.col("destination_iata").alias("airport_iata"))
        .agg(F.count(F.lit(1)).alias("incoming"))
    )
    names = airports.select(F.col("iata").alias("airport_iata"), F.col("name").alias("airport_name"))
    flows = (
        outgoing.join(incoming, [*slot_keys(live), "airport_iata"], "full")
        .select(
            *slot_keys(live),
            "airport_iata",
            F.coalesce("outgoing", F.lit(0)).alias("outgoing"),
            F.coalesce("incoming", F.lit(0)).alias("incoming"),
        )
        .withColumn("difference", F.col("outgoing") - F.col("incoming"))
        .join(F.broadcast(names), "airport_iata", "left")
    )
    ranked = _ranked(flows, [], F.abs(F.col("difference")).desc(), F.col("airport_iata"))
    return _gold(ranked, "airport_flow_imbalance")


def enriched_live_flights(silver: DataFrame, refs: References) -> DataFrame:
    """The enriched live flights of `silver`, computed once and kept (etl.core.spark_session.keep): the coverage, the
    sources and every KPI read them."""
    return keep(enrich_live_flights(silver, refs))


def compute_kpis(silver: DataFrame, refs: References, live: DataFrame | None = None) -> dict[str, DataFrame]:
    """Every gold table (keys = GOLD_TABLES) of one silver snapshot, lazily, from its enriched live flights (`live`,
    or enriched_live_flights of `silver`, computed at once)."""
    # Eight tables read the same enriched live flights: keep them instead of re-joining for each.
    live = enriched_live_flights(silver, refs) if live is None else live
    tables = {
        "airline_most_live_flights": kpi_airline_most_live_flights(live),
        "airline_most_regional_flights_by_continent": kpi_airline_most_regional_flights_by_continent(live),
        "longest_live_flight": kpi_longest_live_flight(live),
        "average_route_distance_by_continent": kpi_average_route_distance_by_continent(live),
        "manufacturer_most_live_flights": kpi_manufacturer_most_live_flights(live),
        "top_models_by_airline_country": kpi_top_models_by_airline_country(live),
        "most_used_model_by_continent": kpi_most_used_model_by_continent(live),
        "airport_flow_imbalance": kpi_airport_flow_imbalance(live, refs.airports),
    }
    return {name: tables[name] for name in GOLD_TABLES}
