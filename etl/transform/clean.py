"""Clean: raw feed rows (all text) -> typed silver flights + quarantined rows with a reason, every rule counted.

Rules, applied in this order; a row gets the reason of the first rule it breaks:
- every value is trimmed; empty strings and `N/A` (any case) become null (`na_normalised` counts rows with N/A);
- `truncated_row`: a line of a replayed CSV capture with fewer fields than its header (cut mid-line, or fields
  lost): its raw `tile` says `truncated_row: line N has K of M fields` (etl.extract.sources.snapshot), and the values it
  has cannot be trusted (a cut `480` reads `48`);
- `missing_id`: no flight id;
- `missing_coordinates`: no latitude or no longitude;
- `bad_coordinates`: latitude / longitude not a finite number or outside [-90, 90] / [-180, 180];
- `bad_number`: heading, altitude, ground speed or vertical speed present but not a finite number in the int
  range, or on_ground other than 0/1/true/false;
- `negative_speed`: a ground speed below zero (a speed over the ground has no sign; vertical speed has one);
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

from etl.core.columns import (
    CLEAN_FLIGHT_ID,
    CLEAN_HAS_NA,
    CLEAN_NORMALISED,
    CLEAN_REASON,
    CLEAN_ROW_REASON,
    CLEAN_TYPED,
    CLEAN_UNPARSED,
    QUARANTINE_REASON,
    RAW_AIRPORT_ICAO_COLUMNS,
    RAW_COLUMNS,
    SILVER_FLIGHTS_SCHEMA,
)
from etl.core.errors import SnapshotFormatError

TRUNCATED_ROW = "truncated_row"  # also the start of the raw `tile` etl.extract.sources.snapshot gives such a row
QUARANTINE_RULES: tuple[str, ...] = (
    TRUNCATED_ROW,
    "missing_id",
    "missing_coordinates",
    "bad_coordinates",
    "bad_number",
    "negative_speed",
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
    "origin_airport_icao": "origin_icao",
    "destination_airport_icao": "destination_icao",
}
_NUMERIC_FIELDS = ("latitude", "longitude", *_INT_FIELDS, *_INT_FIELDS_SIGNED, "time")
_MAX_EPOCH_S = 4_102_444_800  # 2100-01-01T00:00:00Z


@dataclass(frozen=True)
class CleanResult:
    """Silver and quarantine of one raw snapshot (or of several, keyed), and how many rows each rule touched."""

    silver: DataFrame  # exactly SILVER_FLIGHTS_SCHEMA, in order
    quarantine: DataFrame  # exactly QUARANTINE_SCHEMA: the raw text as received + reason
    rule_counts: dict[str, int]  # rule -> rows (every rule of RULES, zero included)
    rule_counts_by_key: dict[str, dict[str, int]] = field(default_factory=dict)  # key value -> rule_counts (keyed)
    kept: tuple[DataFrame, ...] = ()  # the copies kept in memory: unpersist them once silver and quarantine are read

    def unpersist(self) -> None:
        for frame in self.kept:
            frame.unpersist()


def read_raw_flights(
    spark: SparkSession, path: str | Sequence[str], header: tuple[str, ...] | None = None
) -> DataFrame:
    """The raw CSV (header = RAW_COLUMNS, comma, RFC 4180 quotes) with every column as text; of several, their rows.

    Captures with the same header are read in one scan (one branch of the query plan, however many files): a
    column is read by its position in the file, so captures whose headers differ (raw written before the airport
    ICAO columns existed) are read apart and their rows put together by column name. Each file's header is read by
    a Spark job of its own, unless the caller knows it (`header`, shared by every file): a run's own capture, which
    its landing has just written (the job: 0.8 s of a cold run, 30 ms of a warm one).
    """
    paths = [path] if isinstance(path, str) else list(path)
    by_header: dict[tuple[str, ...], list[str]] = {}
    for one in paths:
        if header is not None:
            by_header.setdefault(header, []).append(one)
            continue
        try:
            found = tuple(spark.read.option("header", True).csv(one).columns)
        except AnalysisException as exc:
            raise SnapshotFormatError(f"raw flights: cannot read {one}: {str(exc).splitlines()[0]}") from None
        missing = [c for c in RAW_COLUMNS if c not in found and c not in RAW_AIRPORT_ICAO_COLUMNS]
        if missing:
            raise SnapshotFormatError(f"raw flights: {one} lacks column(s) {', '.join(missing)}")
        by_header.setdefault(found, []).append(one)
    # Values keep their surrounding spaces here (the raw layer is as received); clean trims them.
    frames = [
        select_raw_columns(
            spark.read.option("header", True)
            .option("escape", '"')
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .schema(T.StructType([T.StructField(c, T.StringType()) for c in columns]))
            .csv(files)
        )
        for columns, files in by_header.items()
    ]
    return reduce(DataFrame.unionByName, frames)


_NA_SPELLINGS = ("N/A", "n/a", "N/a", "n/A")


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


def select_raw_columns(raw: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """RAW_COLUMNS of a raw snapshot, in order, then the `keys`; SnapshotFormatError naming the ones it lacks.

    Raw written before the airport ICAO columns existed has none: they read as empty (null).
    """
    missing = [c for c in RAW_COLUMNS if c not in raw.columns and c not in RAW_AIRPORT_ICAO_COLUMNS]
    if missing:
        raise SnapshotFormatError(f"raw flights lack column(s) {', '.join(missing)}")
    absent = F.lit(None).cast("string")
    return raw.select(*(F.col(c) if c in raw.columns else absent.alias(c) for c in RAW_COLUMNS), *keys)


def _passed_through(frame: DataFrame, *dropped: str) -> list[str]:
    """The columns of `frame` a cleaning step carries along untouched (a key): neither raw nor in `dropped`."""
    return [c for c in frame.columns if c not in RAW_COLUMNS and c not in dropped]


def with_normalised_columns(raw: DataFrame) -> DataFrame:
    """Add CLEAN_NORMALISED text beside the raw columns, and CLEAN_HAS_NA (some value is N/A)."""
    # A higher-order function keeps this projection out of whole-stage code generation: its expressions are
    # compiled as many small methods, whereas the fused normalise-type-check method of every column grew past
    # the 8,000-byte limit above which the JVM never JIT-compiles a method (rows ran interpreted, 2-3x slower).
    has_na = F.coalesce(F.exists(F.array(*RAW_COLUMNS), is_na), F.lit(False))
    return raw.select(
        *RAW_COLUMNS,
        *(normalised(F.col(c)).alias(CLEAN_NORMALISED[c]) for c in RAW_COLUMNS),
        has_na.alias(CLEAN_HAS_NA),
        *_passed_through(raw),
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


def _typed_integers(text: dict[str, Column], number: dict[str, Column]) -> list[Column]:
    """Each integer field typed (null outside the int range) and its CLEAN_UNPARSED flag."""
    columns = []
    for raw_name, silver_name in {**_INT_FIELDS, **_INT_FIELDS_SIGNED}.items():
        value = number[raw_name]
        in_range = _finite(value) & (F.abs(value) < F.lit(2.0**31))
        columns.append(F.when(in_range, F.round(value).cast("int")).alias(CLEAN_TYPED[silver_name]))
        columns.append((text[raw_name].isNotNull() & ~in_range).alias(CLEAN_UNPARSED[raw_name]))
    return columns


def _typed_texts(text: dict[str, Column]) -> list[Column]:
    """The text fields as they are, the codes (which join to reference tables) in upper case."""
    columns = [text[raw_name].alias(CLEAN_TYPED[silver_name]) for raw_name, silver_name in _TEXT_FIELDS.items()]
    for raw_name, silver_name in _CODE_FIELDS.items():
        columns.append(F.upper(text[raw_name]).alias(CLEAN_TYPED[silver_name]))
    return columns


def _typed_on_ground(text: dict[str, Column]) -> list[Column]:
    """on_ground as a boolean (1/true, 0/false, any case) and its CLEAN_UNPARSED flag."""
    ground = F.lower(text["on_ground"])
    value = F.when(ground.isin("1", "true"), F.lit(True)).when(ground.isin("0", "false"), F.lit(False))
    unparsed = text["on_ground"].isNotNull() & ~ground.isin("0", "1", "true", "false")
    return [value.alias(CLEAN_TYPED["on_ground"]), unparsed.alias(CLEAN_UNPARSED["on_ground"])]


def _typed_times(text: dict[str, Column], number: dict[str, Column]) -> list[Column]:
    """The position time and the request time as timestamps, each with its CLEAN_UNPARSED flag."""
    position_time = position_timestamp(text["time"], number["time"])
    requested = F.expr(f"try_cast(`{CLEAN_NORMALISED['requested_at']}` as timestamp)")
    return [
        position_time.alias(CLEAN_TYPED["position_time"]),
        (text["time"].isNotNull() & position_time.isNull()).alias(CLEAN_UNPARSED["time"]),
        requested.alias(CLEAN_TYPED["requested_at"]),
        (text["requested_at"].isNotNull() & requested.isNull()).alias(CLEAN_UNPARSED["requested_at"]),
    ]


def with_typed_columns(normalised_raw: DataFrame) -> DataFrame:
    """From `with_normalised_columns`: raw columns, CLEAN_TYPED typed columns, CLEAN_UNPARSED parse flags."""
    text = {c: F.col(CLEAN_NORMALISED[c]) for c in RAW_COLUMNS}
    # try_cast gives null for unparseable text whatever spark.sql.ansi.enabled says.
    number = {c: F.expr(f"try_cast(`{CLEAN_NORMALISED[c]}` as double)") for c in _NUMERIC_FIELDS}
    # One projection: the typed values are computed together, each from the normalised text of its own column.
    return normalised_raw.select(
        *RAW_COLUMNS,
        text["latitude"],  # the normalised coordinates: their absence is the missing_coordinates rule
        text["longitude"],
        text["id"].alias(CLEAN_FLIGHT_ID),
        number["latitude"].alias(CLEAN_TYPED["latitude"]),
        number["longitude"].alias(CLEAN_TYPED["longitude"]),
        *_typed_integers(text, number),
        *_typed_texts(text),
        *_typed_on_ground(text),
        *_typed_times(text, number),
        F.col(CLEAN_HAS_NA),
        *_passed_through(normalised_raw, *CLEAN_NORMALISED.values(), CLEAN_HAS_NA),
    )


def with_rule_reason(typed: DataFrame) -> DataFrame:
    """Add CLEAN_ROW_REASON (the first row-level rule a row breaks, null if usable), track type and is_aircraft."""
    lat, lon = F.col(CLEAN_TYPED["latitude"]), F.col(CLEAN_TYPED["longitude"])
    bad_number = F.col(CLEAN_UNPARSED["on_ground"])
    for raw_name in (*_INT_FIELDS, *_INT_FIELDS_SIGNED):
        bad_number = bad_number | F.col(CLEAN_UNPARSED[raw_name])
    coordinates_ok = _finite(lat) & _finite(lon) & lat.between(-90.0, 90.0) & lon.between(-180.0, 180.0)
    missing_coordinates = F.col(CLEAN_NORMALISED["latitude"]).isNull() | F.col(CLEAN_NORMALISED["longitude"]).isNull()
    truncated = F.coalesce(F.col(CLEAN_TYPED["tile"]).startswith(f"{TRUNCATED_ROW}:"), F.lit(False))
    reason = (
        F.when(truncated, TRUNCATED_ROW)
        .when(F.col(CLEAN_FLIGHT_ID).isNull(), "missing_id")
        .when(missing_coordinates, "missing_coordinates")
        .when(~coordinates_ok, "bad_coordinates")
        .when(bad_number, "bad_number")
        .when(F.col(CLEAN_TYPED["ground_speed_kt"]) < 0, "negative_speed")
        .when(F.col(CLEAN_UNPARSED["time"]) | F.col(CLEAN_UNPARSED["requested_at"]), "bad_timestamp")
    )
    kind = track_type(F.col(CLEAN_TYPED["aircraft_code"]))
    read_by_the_rules = {*CLEAN_NORMALISED.values(), *CLEAN_UNPARSED.values()}  # not needed past this step
    return typed.select(
        *(c for c in typed.columns if c not in read_by_the_rules),
        reason.alias(CLEAN_ROW_REASON),
        kind.alias(CLEAN_TYPED["track_type"]),
        (~kind.isin(*NON_AIRCRAFT)).alias(CLEAN_TYPED["is_aircraft"]),
    )


def with_rows_reason(raw: DataFrame) -> DataFrame:
    """Raw columns, CLEAN_TYPED columns, CLEAN_HAS_NA and the row-level CLEAN_ROW_REASON of each raw row."""
    return raw.transform(with_normalised_columns).transform(with_typed_columns).transform(with_rule_reason)


def without_usable_raw_text(rows: DataFrame) -> DataFrame:
    """Null the raw text of usable rows: only quarantined rows are written as received."""
    return rows.select(
        *(F.when(F.col(CLEAN_ROW_REASON).isNotNull(), F.col(c)).alias(c) for c in RAW_COLUMNS),
        *(c for c in rows.columns if c not in RAW_COLUMNS),
    )


def repeated_ids(rows: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """The flight ids (CLEAN_FLIGHT_ID) that more than one usable row of one key carries, with the key."""
    return (
        rows.where(F.col(CLEAN_ROW_REASON).isNull())
        .groupBy(*keys, CLEAN_FLIGHT_ID)
        .count()
        .where(F.col("count") > 1)  # `count`: the column groupBy().count() adds
        .select(*keys, CLEAN_FLIGHT_ID)
    )


def unique_id_rows(rows: DataFrame, repeated: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """The rows whose (key, id) is not in `repeated`, with CLEAN_REASON: their row-level reason."""
    unique = rows.join(repeated, [*keys, CLEAN_FLIGHT_ID], "left_anti")
    return unique.withColumn(CLEAN_REASON, F.col(CLEAN_ROW_REASON))


def with_duplicate_reason(rows: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """Add CLEAN_REASON: CLEAN_ROW_REASON, or `duplicate_id` for a usable row that is not its flight id's newest."""
    newest_first = Window.partitionBy(*keys, CLEAN_FLIGHT_ID).orderBy(
        F.col(CLEAN_ROW_REASON).isNotNull(),  # usable rows first
        F.col(CLEAN_TYPED["position_time"]).desc_nulls_last(),
        F.col(CLEAN_TYPED["requested_at"]).desc_nulls_last(),
        # Last tie-break: a hash of the raw text (one long, not 21 strings to sort): equal hashes mean equal rows.
        F.xxhash64(*RAW_COLUMNS),
    )
    duplicate = F.col(CLEAN_ROW_REASON).isNull() & (F.row_number().over(newest_first) > 1)
    return rows.withColumn(CLEAN_REASON, F.when(duplicate, F.lit("duplicate_id")).otherwise(F.col(CLEAN_ROW_REASON)))


def repeated_id_rows(raw: DataFrame, repeated: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """The raw rows whose (key, id) is in `repeated`, typed again with their raw text, and their CLEAN_REASON."""
    # The newest-first window breaks its last ties on the raw text, and the quarantine keeps it: the usable rows
    # kept in memory have none, so these few rows are read again from the raw input.
    # Joined by column names, so that a key both sides carry unchanged is matched side by side.
    return (
        raw.withColumn(CLEAN_FLIGHT_ID, normalised(F.col("id")))
        .join(repeated, [*keys, CLEAN_FLIGHT_ID], "left_semi")
        .drop(CLEAN_FLIGHT_ID)
        .transform(with_rows_reason)
        .transform(lambda rows: with_duplicate_reason(rows, keys))
    )


def count_rules(tagged: DataFrame, keys: tuple[str, ...] = ()) -> dict[tuple[Any, ...], dict[str, int]]:
    """Rows per rule of RULES (every rule, zero included) of each key value, in one pass over rows carrying
    CLEAN_REASON; without keys, the one entry `()` (an aggregate without groups always gives one row)."""
    reason = F.col(CLEAN_REASON)
    counters = [F.sum(F.when(reason == rule, 1).otherwise(0)).alias(rule) for rule in QUARANTINE_RULES]
    non_aircraft = reason.isNull() & ~F.col(CLEAN_TYPED["is_aircraft"])
    counters.append(F.sum(F.when(non_aircraft, 1).otherwise(0)).alias("non_aircraft_flagged"))
    counters.append(F.sum(F.when(F.col(CLEAN_HAS_NA), 1).otherwise(0)).alias("na_normalised"))
    rows = tagged.groupBy(*keys).agg(*counters).collect()
    return {tuple(row[k] for k in keys): {rule: int(row[rule] or 0) for rule in RULES} for row in rows}


def silver_flights(tagged: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """The rows without a CLEAN_REASON, as SILVER_FLIGHTS_SCHEMA (then the keys)."""
    return tagged.where(F.col(CLEAN_REASON).isNull()).select(
        *(F.col(CLEAN_TYPED[name]).cast(type_name).alias(name) for name, type_name in SILVER_FLIGHTS_SCHEMA.items()),
        *keys,
    )


def quarantined_flights(tagged: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """The rows with a CLEAN_REASON, as received, and the reason (QUARANTINE_SCHEMA, then the keys)."""
    reason = F.col(CLEAN_REASON)
    return tagged.where(reason.isNotNull()).select(*RAW_COLUMNS, reason.alias(QUARANTINE_REASON), *keys)


def clean_flights(raw: DataFrame, key: str | None = None) -> CleanResult:
    """Clean one raw snapshot (RAW_COLUMNS as text) into silver, quarantine and per-rule counts.

    With `key`, a column of `raw` naming the snapshot of each row (a backfill's slot), several snapshots are cleaned
    at once, each as on its own: duplicates are those of one snapshot, silver and quarantine keep the column, and
    `rule_counts_by_key` gives each snapshot's counts (`rule_counts`: their sum).
    """
    keys = (key,) if key else ()
    raw = select_raw_columns(raw, keys)
    # Typed once and kept: the counts, silver, quarantine and the KPIs all read these rows. Only quarantined rows
    # are written as received, so usable rows keep no raw text: the copy is smaller and quicker to build.
    rows = raw.transform(with_rows_reason).transform(without_usable_raw_text).persist(StorageLevel.MEMORY_AND_DISK)
    # Duplicates are rare (the extractor keeps one row per id): the ids with more than one usable row come from
    # the kept id column. Only their rows go through the newest-first window, typed again from the raw input. With
    # no repeated id (the usual case) that join has an empty side, and Spark skips reading the input again.
    repeated_kept = repeated_ids(rows, keys).persist(StorageLevel.MEMORY_AND_DISK)
    repeated = F.broadcast(repeated_kept)
    once = unique_id_rows(rows, repeated, keys)
    several = repeated_id_rows(raw, repeated, keys).persist(StorageLevel.MEMORY_AND_DISK)
    tagged = once.unionByName(several).drop(CLEAN_ROW_REASON)
    counted = count_rules(tagged, keys)  # the one action: it also fills the three copies kept above
    return CleanResult(
        silver=silver_flights(tagged, keys),
        quarantine=quarantined_flights(tagged, keys),
        rule_counts={rule: sum(counts[rule] for counts in counted.values()) for rule in RULES},
        rule_counts_by_key={str(k[0]): counts for k, counts in counted.items()} if key else {},
        kept=(rows, repeated_kept, several),
    )
