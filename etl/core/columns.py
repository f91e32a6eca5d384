"""Column names and table schemas: the one place every stage and the Athena DDL agree on."""

from __future__ import annotations

# The FlightRadarAPI `Flight` attributes, in the order the feed's 19-value arrays map to them.
FLIGHT_FIELDS: tuple[str, ...] = (
    "latitude",
    "longitude",
    "id",
    "icao_24bit",
    "heading",
    "altitude",
    "ground_speed",
    "squawk",
    "aircraft_code",
    "registration",
    "time",
    "origin_airport_iata",
    "destination_airport_iata",
    "number",
    "airline_iata",
    "on_ground",
    "vertical_speed",
    "callsign",
    "airline_icao",
)
REQUIRED_FLIGHT_FIELDS: tuple[str, ...] = ("id", "latitude", "longitude")

# Request metadata the extractor adds to every raw row.
RAW_TILE = "tile"  # "south,north,west,east" of the tile that returned the row
RAW_REQUESTED_AT = "requested_at"  # ISO-8601 UTC time of the request, e.g. 2026-11-22T14:00:03Z
# The airports' ICAO codes, when a source gives them (the official API's orig_icao / dest_icao; FlightRadarAPI's
# feed has none): an airfield without an IATA code is known by these alone. Raw written before they existed lacks
# them; clean reads them as empty.
RAW_AIRPORT_ICAO_COLUMNS: tuple[str, ...] = ("origin_airport_icao", "destination_airport_icao")
RAW_COLUMNS: tuple[str, ...] = (*FLIGHT_FIELDS, RAW_TILE, RAW_REQUESTED_AT, *RAW_AIRPORT_ICAO_COLUMNS)

# The run that wrote a row: every row of every lake table carries it (etl/publication/lake.py).
RUN_ID = "run_id"

# Partition columns, zero-padded strings: tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14
PARTITION_COLUMNS: tuple[str, ...] = ("tech_year", "tech_month", "tech_day", "tech_hour")

# Silver flights (Parquet). name -> Spark SQL type; partition columns are not stored in the files.
SILVER_FLIGHTS_SCHEMA: dict[str, str] = {
    "flight_id": "string",
    "icao_24bit": "string",
    "latitude": "double",
    "longitude": "double",
    "heading": "int",
    "altitude_ft": "int",
    "ground_speed_kt": "int",
    "squawk": "string",
    "aircraft_code": "string",
    "registration": "string",
    "position_time": "timestamp",
    "origin_iata": "string",
    "destination_iata": "string",
    "flight_number": "string",
    "airline_iata": "string",
    "airline_icao": "string",
    "on_ground": "boolean",
    "vertical_speed_fpm": "int",
    "callsign": "string",
    "track_type": "string",  # aircraft, glider, ground_vehicle, balloon, drone, ship, unknown
    "is_aircraft": "boolean",  # False for ground vehicles, balloons, drones, ships
    "tile": "string",
    "requested_at": "timestamp",
    "origin_icao": "string",
    "destination_icao": "string",
}

# Clean's working columns (etl/transform/clean.py): built and dropped within one clean, never written. Each step
# adds or reads these, so they are named here once.
CLEAN_NORMALISED: dict[str, str] = {c: f"_n_{c}" for c in RAW_COLUMNS}  # raw -> trimmed text, "" and N/A as null
CLEAN_UNPARSED: dict[str, str] = {c: f"_bad_{c}" for c in RAW_COLUMNS}  # raw -> present but not a valid value
CLEAN_TYPED: dict[str, str] = {c: f"_s_{c}" for c in SILVER_FLIGHTS_SCHEMA}  # silver -> its typed value
CLEAN_FLIGHT_ID = CLEAN_TYPED["flight_id"]  # the key of the duplicate rule
CLEAN_HAS_NA = "_has_na"  # some raw value of the row is N/A
CLEAN_ROW_REASON = "_pre_reason"  # the first row-level rule the row breaks; null when the row is usable
CLEAN_REASON = "_reason"  # the row-level reason, or duplicate_id; null when the row goes to silver

# Quarantine: every raw column as text, plus why the row was rejected.
QUARANTINE_REASON = "reason"
QUARANTINE_SCHEMA: dict[str, str] = {**{c: "string" for c in RAW_COLUMNS}, QUARANTINE_REASON: "string"}

# Gold tables (Parquet), in DESIGN.md order. Every table keeps the whole ranking; rank 1 is the answer.
GOLD_SCHEMAS: dict[str, dict[str, str]] = {
    "airline_most_live_flights": {
        "rank": "int",
        "airline_icao": "string",
        "airline_name": "string",
        "live_flights": "bigint",
    },
    "airline_most_regional_flights_by_continent": {
        "continent": "string",
        "rank": "int",
        "airline_icao": "string",
        "airline_name": "string",
        "regional_flights": "bigint",
    },
    "longest_live_flight": {
        "rank": "int",
        "flight_id": "string",
        "callsign": "string",
        "airline_icao": "string",
        "origin_iata": "string",
        "destination_iata": "string",
        "distance_km": "double",
    },
    "average_route_distance_by_continent": {
        "continent": "string",
        "rank": "int",
        "avg_distance_km": "double",
        "flights": "bigint",
    },
    "manufacturer_most_live_flights": {
        "rank": "int",
        "manufacturer": "string",
        "live_flights": "bigint",
    },
    "top_models_by_airline_country": {
        "airline_country": "string",
        "rank": "int",
        "aircraft_model": "string",
        "live_flights": "bigint",
    },
    "most_used_model_by_continent": {
        "continent": "string",
        "rank": "int",
        "aircraft_model": "string",
        "live_flights": "bigint",
    },
    "airport_flow_imbalance": {
        "rank": "int",
        "airport_iata": "string",
        "airport_name": "string",
        "outgoing": "bigint",
        "incoming": "bigint",
        "difference": "bigint",
    },
}
GOLD_TABLES: tuple[str, ...] = tuple(GOLD_SCHEMAS)

# The runs table: one row per run, the manifest's figures (runs/<run_id>.json holds the whole record).
RUNS_SCHEMA: dict[str, str] = {
    "run_slot": "string",
    "status": "string",  # succeeded, degraded (published although the gate failed, as asked) or failed
    "source": "string",
    "started_at": "string",
    "finished_at": "string",
    "capture_time": "string",
    "error": "string",
    "counts": (
        "struct<raw: bigint, silver: bigint, quarantine: bigint, live_flights: bigint, gold: map<string, bigint>>"
    ),
    "cleaning_rules": "map<string, bigint>",
    "extraction": "string",  # JSON text: open-ended
    "mapping_coverage": "map<string, double>",
    "quality": (
        "struct<passed: boolean, allow_degraded: boolean, failed: array<string>, "
        "checks: array<struct<name: string, value: double, threshold: double, passed: boolean, detail: string>>>"
    ),
    "timings_s": "map<string, double>",
    "versions": "map<string, string>",
    "snapshots": "map<string, bigint>",  # table -> the Iceberg snapshot id holding the run's rows of the slot
}

CONTINENTS: tuple[str, ...] = (
    "Africa",
    "Antarctica",
    "Asia",
    "Europe",
    "North America",
    "Oceania",
    "South America",
)

# The columns of the landed reference CSVs (raw/reference/...), as the sources give them; `etl.reference` reads
# them into the job's airport and airline tables (its AIRPORT_TABLE_COLUMNS, AIRLINE_TABLE_COLUMNS).
RAW_AIRPORT_COLUMNS = ("iata", "icao", "name", "country", "latitude", "longitude", "altitude", "source")
RAW_AIRLINE_COLUMNS = ("icao", "iata", "name", "source")
