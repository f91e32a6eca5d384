"""Clean: raw feed rows (all text) -> typed silver flights + quarantined rows with a reason, every rule counted.

Rules, applied in this order; a row gets the reason of the first rule it breaks:
- every value is trimmed; empty strings and `N/A` (any case) become null (`na_normalised` counts rows with N/A);
- `missing_id`: no flight id;
- `missing_coordinates`: no latitude or no longitude;
- `bad_coordinates`: latitude / longitude not a finite number or outside [-90, 90] / [-180, 180];
- `bad_number`: heading, altitude, ground speed or vertical speed present but not a finite number in the int
  range, or on_ground other than 0/1/true/false;
- `bad_timestamp`: position time present but none of: epoch seconds, epoch milliseconds (a number of seconds
  past 2100 read as milliseconds), ISO-8601 text (`2024-04-18 17:17:22`, `2024-04-18T17:17:22Z`, with an
  optional fraction and offset; without an offset it is UTC, the session's zone), in each case in [1970, 2100);
  or requested_at present but not an ISO-8601 time. (Parquet timestamps reach raw as ISO-8601 UTC text.)
- `duplicate_id`: another usable row has the same flight id and a newer position. The kept row is the first by
  (position_time desc, requested_at desc, then a 64-bit hash of the raw text asc), so the choice is
  deterministic. Duplicates go to quarantine too, so raw rows = silver rows + quarantine rows exactly.
Usable rows are flagged, never dropped: `track_type` from the aircraft code (GRND ground_vehicle, GLID glider,
BALL balloon, DRON drone, SHIP ship, none or 0000 unknown, anything else aircraft) and `is_aircraft` false for
ground vehicles, balloons, drones and ships (`non_aircraft_flagged` counts them in silver).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from etl.columns import QUARANTINE_REASON, RAW_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.errors import SnapshotFormatError

QUARANTINE_RULES: tuple[str, ...] = (
    "missing_id",
    "missing_coordinates",
    "bad_coordinates",
    "bad_number",
    "bad_timestamp",
    "duplicate_id",
)
FLAG_RULES: tuple[str, ...] = ("non_aircraft_flagged", "na_normalised")
RULES: tuple[str, ...] = (*QUARANTINE_RULES, *FLAG_RULES)

TRACK_TYPES: dict[str, str] = {
    "GRND": "ground_vehicle",
    "GLID": "glider",
    "BALL": "balloon",
    "DRON": "drone",
    "SHIP": "ship",
}
NON_AIRCRAFT: tuple[str, ...] = ("ground_vehicle", "balloon", "drone", "ship")

_INT_FIELDS = {"heading": "heading", "altitude": "altitude_ft", "ground_speed": "ground_speed_kt"}
_INT_FIELDS_SIGNED = {"vertical_speed": "vertical_speed_fpm"}
_TEXT_FIELDS = {
    "icao_24bit": "icao_24bit",
    "squawk": "squawk",
    "registration": "registration",
    "number": "flight_number",
    "callsign": "callsign",
    "tile": "tile",
}
_CODE_FIELDS = {  # codes join to reference tables: upper case
    "aircraft_code": "aircraft_code",
    "origin_airport_iata": "origin_iata",
    "destination_airport_iata": "destination_iata",
    "airline_iata": "airline_iata",
    "airline_icao": "airline_icao",
}
_MAX_EPOCH_S = 4_102_444_800  # 2100-01-01T00:00:00Z
_REASON = "_reason"


@dataclass(frozen=True)
class CleanResult:
    """Silver and quarantine of one raw snapshot, and how many rows each rule touched."""

    silver: DataFrame  # exactly SILVER_FLIGHTS_SCHEMA, in order
    quarantine: DataFrame  # exactly QUARANTINE_SCHEMA: the raw text as received + reason
    rule_counts: dict[str, int]  # rule -> rows (every rule of RULES, zero included)


def read_raw_flights(spark: SparkSession, path: str) -> DataFrame:
    """The raw CSV (header = RAW_COLUMNS, comma, RFC 4180 quotes) with every column as text."""
    try:
        header = spark.read.option("header", True).csv(path).columns
    except AnalysisException as exc:
        raise SnapshotFormatError(f"raw flights: cannot read {path}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in RAW_COLUMNS if c not in header]
    if missing:
        raise SnapshotFormatError(f"raw flights: {path} lacks column(s) {', '.join(missing)}")
    schema = T.StructType([T.StructField(c, T.StringType()) for c in header])
    # Values keep their surrounding spaces here (the raw layer is as received); clean trims them.
    frame = (
        spark.read.option("header", True)
        .option("escape", '"')
        .option("ignoreLeadingWhiteSpace", False)
        .option("ignoreTrailingWhiteSpace", False)
        .schema(schema)
        .csv(path)
    )
    return frame.select(*RAW_COLUMNS)


_NA_SPELLINGS = ("N/A", "n/a", "N/a", "n/A")
_ID = "_s_flight_id"


def is_na(text: Column) -> Column:
    """True where a raw value is the feed's N/A marker (any case, surrounding spaces ignored)."""
    # Exact matches on the trimmed text: upper() would copy every value of every column.
    return F.trim(text).isin(*_NA_SPELLINGS)


def normalised(text: Column) -> Column:
    """Trimmed text, with empty strings and N/A as null."""
    trimmed = F.trim(text)
    return F.when((trimmed == "") | trimmed.isin(*_NA_SPELLINGS), F.lit(None).cast("string")).otherwise(trimmed)


def _finite(value: Column) -> Column:
    return value.isNotNull() & ~F.isnan(value) & (F.abs(value) != F.lit(float("inf")))


def track_type(aircraft_code: Column) -> Column:
    """aircraft, glider, ground_vehicle, balloon, drone, ship or unknown, from a normalised aircraft code."""
    mapped = F.lit(None).cast("string")
    for code, kind in TRACK_TYPES.items():
        mapped = F.when(aircraft_code == code, kind).otherwise(mapped)
    unknown = aircraft_code.isNull() | (aircraft_code == "0000")
    return F.when(unknown, "unknown").otherwise(F.coalesce(mapped, F.lit("aircraft")))


def with_normalised_columns(raw: DataFrame) -> DataFrame:
    """Add `_n_<raw>` normalised text beside the raw columns, and `_has_na` (some value is N/A)."""
    # A higher-order function keeps this projection out of whole-stage code generation: its expressions are
    # compiled as many small methods, whereas the fused normalise-type-check method of every column grew past
    # the 8,000-byte limit above which the JVM never JIT-compiles a method (rows ran interpreted, 2-3x slower).
    has_na = F.coalesce(F.exists(F.array(*RAW_COLUMNS), is_na), F.lit(False))
    return raw.select(
        *RAW_COLUMNS, *(normalised(F.col(c)).alias(f"_n_{c}") for c in RAW_COLUMNS), has_na.alias("_has_na")
    )


_ISO_DATE_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # a date and a time: Spark alone also takes "12:00" or "2024"


def position_timestamp(text: Column, number: Column) -> Column:
    """A position time from normalised text and its numeric reading: epoch s, epoch ms or ISO-8601; else null."""
    finite = _finite(number) & (number >= 0)
    seconds = (
        F.when(finite & (number < _MAX_EPOCH_S), number)
        # Past 2100 in seconds: milliseconds (a capture of 2024 in ms is 1.7e12), if that lands before 2100.
        .when(finite & (number / 1000 < _MAX_EPOCH_S), number / 1000)
    )
    iso = F.when(number.isNull() & text.rlike(_ISO_DATE_TIME), F.try_to_timestamp(text))
    in_range = iso.between(F.timestamp_seconds(F.lit(0)), F.timestamp_seconds(F.lit(_MAX_EPOCH_S - 1)))
    return F.coalesce(F.timestamp_seconds(seconds), F.when(in_range, iso))


def with_typed_columns(normalised_raw: DataFrame) -> DataFrame:
    """From `with_normalised_columns`: raw columns, `_s_<silver>` typed columns, `_bad_<raw>` parse flags."""
    # try_cast gives null for unparseable text whatever spark.sql.ansi.enabled says.
    numeric = ("latitude", "longitude", *_INT_FIELDS, *_INT_FIELDS_SIGNED, "time")
    num = {c: F.expr(f"try_cast(`_n_{c}` as double)") for c in numeric}
    typed: list[Column] = [
        F.col("_n_latitude"),
        F.col("_n_longitude"),
        F.col("_n_id").alias(_ID),
        num["latitude"].alias("_s_latitude"),
        num["longitude"].alias("_s_longitude"),
    ]
    for raw_name, silver_name in {**_INT_FIELDS, **_INT_FIELDS_SIGNED}.items():
        value = num[raw_name]
        in_range = _finite(value) & (F.abs(value) < F.lit(2.0**31))
        typed.append(F.when(in_range, F.round(value).cast("int")).alias(f"_s_{silver_name}"))
        typed.append((F.col(f"_n_{raw_name}").isNotNull() & ~in_range).alias(f"_bad_{raw_name}"))
    for raw_name, silver_name in _TEXT_FIELDS.items():
        typed.append(F.col(f"_n_{raw_name}").alias(f"_s_{silver_name}"))
    for raw_name, silver_name in _CODE_FIELDS.items():
        typed.append(F.upper(F.col(f"_n_{raw_name}")).alias(f"_s_{silver_name}"))
    ground = F.lower(F.col("_n_on_ground"))
    typed.append(
        F.when(ground.isin("1", "true"), F.lit(True))
        .when(ground.isin("0", "false"), F.lit(False))
        .alias("_s_on_ground")
    )
    typed.append((F.col("_n_on_ground").isNotNull() & ~ground.isin("0", "1", "true", "false")).alias("_bad_on_ground"))
    position_time = position_timestamp(F.col("_n_time"), num["time"])
    typed.append(position_time.alias("_s_position_time"))
    typed.append((F.col("_n_time").isNotNull() & position_time.isNull()).alias("_bad_time"))
    requested = F.expr("try_cast(`_n_requested_at` as timestamp)")
    typed.append(requested.alias("_s_requested_at"))
    typed.append((F.col("_n_requested_at").isNotNull() & requested.isNull()).alias("_bad_requested_at"))
    typed.append(F.col("_has_na"))
    return normalised_raw.select(*RAW_COLUMNS, *typed)


def with_rule_reason(typed: DataFrame) -> DataFrame:
    """Add `_pre_reason` (the first row-level rule a row breaks, null if usable), track type and is_aircraft."""
    lat, lon = F.col("_s_latitude"), F.col("_s_longitude")
    bad_number = F.col("_bad_on_ground")
    for raw_name in (*_INT_FIELDS, *_INT_FIELDS_SIGNED):
        bad_number = bad_number | F.col(f"_bad_{raw_name}")
    coordinates_ok = _finite(lat) & _finite(lon) & lat.between(-90.0, 90.0) & lon.between(-180.0, 180.0)
    reason = (
        F.when(F.col(_ID).isNull(), "missing_id")
        .when(F.col("_n_latitude").isNull() | F.col("_n_longitude").isNull(), "missing_coordinates")
        .when(~coordinates_ok, "bad_coordinates")
        .when(bad_number, "bad_number")
        .when(F.col("_bad_time") | F.col("_bad_requested_at"), "bad_timestamp")
    )
    kind = track_type(F.col("_s_aircraft_code"))
    kept = [c for c in typed.columns if not c.startswith(("_bad_", "_n_"))]
    return typed.select(
        *kept,
        reason.alias("_pre_reason"),
        kind.alias("_s_track_type"),
        (~kind.isin(*NON_AIRCRAFT)).alias("_s_is_aircraft"),
    )


def with_rows_reason(raw: DataFrame) -> DataFrame:
    """Raw columns, typed `_s_` columns, `_has_na` and the row-level `_pre_reason` of each raw row."""
    return raw.transform(with_normalised_columns).transform(with_typed_columns).transform(with_rule_reason)


def with_duplicate_reason(rows: DataFrame) -> DataFrame:
    """Add `_reason`: `_pre_reason`, or `duplicate_id` for a usable row that is not its flight id's newest."""
    newest_first = Window.partitionBy(_ID).orderBy(
        F.col("_pre_reason").isNotNull(),  # usable rows first
        F.col("_s_position_time").desc_nulls_last(),
        F.col("_s_requested_at").desc_nulls_last(),
        # Last tie-break: a hash of the raw text (one long, not 21 strings to sort): equal hashes mean equal rows.
        F.xxhash64(*RAW_COLUMNS),
    )
    duplicate = F.col("_pre_reason").isNull() & (F.row_number().over(newest_first) > 1)
    return rows.withColumn(_REASON, F.when(duplicate, F.lit("duplicate_id")).otherwise(F.col("_pre_reason")))


def clean_flights(raw: DataFrame) -> CleanResult:
    """Clean one raw snapshot (RAW_COLUMNS as text) into silver, quarantine and per-rule counts."""
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise SnapshotFormatError(f"raw flights lack column(s) {', '.join(missing)}")
    raw = raw.select(*RAW_COLUMNS)
    # Typed once and kept: the counts, silver, quarantine and the KPIs all read these rows. Only quarantined rows
    # are written as received, so usable rows keep no raw text: the copy is smaller and quicker to build.
    rows = raw.transform(with_rows_reason)
    rows = rows.select(
        *(F.when(F.col("_pre_reason").isNotNull(), F.col(c)).alias(c) for c in RAW_COLUMNS),
        *(c for c in rows.columns if c not in RAW_COLUMNS),
    ).persist(StorageLevel.MEMORY_AND_DISK)
    # Duplicates are rare (the extractor keeps one row per id): the ids with more than one usable row come from
    # the kept id column. Only their rows go through the newest-first window, typed again from the raw input as
    # the window's last tie-break and the quarantine need their raw text. With no repeated id (the usual case)
    # that join has an empty side, and Spark skips reading the input again.
    repeated = F.broadcast(
        rows.where(F.col("_pre_reason").isNull())
        .groupBy(_ID)
        .count()
        .where(F.col("count") > 1)
        .select(_ID)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    once = rows.join(repeated, _ID, "left_anti").withColumn(_REASON, F.col("_pre_reason"))
    several = (
        raw.join(repeated, normalised(F.col("id")) == repeated[_ID], "left_semi")
        .transform(with_rows_reason)
        .transform(with_duplicate_reason)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    tagged = once.unionByName(several).drop("_pre_reason")
    reason = F.col(_REASON)

    counters = [F.sum(F.when(reason == rule, 1).otherwise(0)).alias(rule) for rule in QUARANTINE_RULES]
    counters.append(
        F.sum(F.when(reason.isNull() & ~F.col("_s_is_aircraft"), 1).otherwise(0)).alias("non_aircraft_flagged")
    )
    counters.append(F.sum(F.when(F.col("_has_na"), 1).otherwise(0)).alias("na_normalised"))
    row = tagged.agg(*counters).first()
    rule_counts = {rule: int((row[rule] if row is not None else 0) or 0) for rule in RULES}

    silver = tagged.where(reason.isNull()).select(
        *(F.col(f"_s_{name}").cast(type_name).alias(name) for name, type_name in SILVER_FLIGHTS_SCHEMA.items())
    )
    quarantine = tagged.where(reason.isNotNull()).select(*RAW_COLUMNS, reason.alias(QUARANTINE_REASON))
    return CleanResult(silver=silver, quarantine=quarantine, rule_counts=rule_counts)
