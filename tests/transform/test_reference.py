"""Reference tables: countries and continents, aircraft types, airlines, and loading them from CSV lists."""

from __future__ import annotations

import csv
from pathlib import Path

import airportsdata
import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from etl.columns import CONTINENTS
from etl.errors import ReferenceDataError
from etl.reference import load_references
from etl.reference.aircraft import aircraft_types, manufacturer_name
from etl.reference.airlines import AIRLINES
from etl.reference.countries import COUNTRIES, country_aliases


def test_every_iso_code_and_kosovo_is_covered():
    # ISO 3166-1 has 249 alpha-2 codes; airportsdata adds XK for Kosovo.
    assert len(COUNTRIES) == 250
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in COUNTRIES)
    used = {row["country"] for row in airportsdata.load("IATA").values()}
    assert used <= set(COUNTRIES)


def test_continents_spelled_exactly():
    assert {continent for _, continent in COUNTRIES.values()} == set(CONTINENTS)


@pytest.mark.parametrize(
    ("spelling", "country", "continent"),
    [
        ("United States", "United States", "North America"),
        ("US", "United States", "North America"),
        ("united kingdom", "United Kingdom", "Europe"),
        ("Russia", "Russia", "Europe"),
        ("Turkey", "Turkey", "Asia"),
        ("Türkiye", "Turkey", "Asia"),
        ("Egypt", "Egypt", "Africa"),
        ("Kazakhstan", "Kazakhstan", "Asia"),
        ("South Korea", "South Korea", "Asia"),
        ("Czech Republic", "Czechia", "Europe"),
        ("Czechia", "Czechia", "Europe"),
        ("Ivory Coast", "Côte d'Ivoire", "Africa"),
        ("Côte d'Ivoire", "Côte d'Ivoire", "Africa"),
        ("Cote D'ivoire", "Côte d'Ivoire", "Africa"),
        ("Democratic Republic Of The Congo", "DR Congo", "Africa"),
        ("Panama", "Panama", "North America"),
        ("French Guiana", "French Guiana", "South America"),
        ("Papua New Guinea", "Papua New Guinea", "Oceania"),
        ("Antarctica", "Antarctica", "Antarctica"),
    ],
)
def test_fr24_names_and_transcontinental_rule(spelling, country, continent):
    assert country_aliases()[spelling.lower()] == (country, continent)


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


def test_airline_table_spans_every_inhabited_continent():
    assert len(AIRLINES) >= 150
    names = {name: continent for name, continent in COUNTRIES.values()}
    continents = {names[country] for _, country in AIRLINES.values()}  # KeyError: a misspelled country
    assert continents == set(CONTINENTS) - {"Antarctica"}
    assert AIRLINES["AFR"] == ("Air France", "France")
    assert AIRLINES["UAE"] == ("Emirates", "United Arab Emirates")


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
            ("IST", "Istanbul", "Turkey", "Asia", 41.2753, 28.7519),
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
    assert refs.airlines.count() == len(AIRLINES)
    jfk = refs.airports.where("iata = 'JFK'").first()
    assert (jfk["country"], jfk["continent"]) == ("United States", "North America")
    assert refs.sources["airports"].startswith("airportsdata")


def test_airports_list_without_columns_is_refused(spark: SparkSession, tmp_path: Path):
    path = write(tmp_path / "airports.csv", ["iata", "name"], [["CDG", "Paris"]])
    with pytest.raises(ReferenceDataError, match="lacks column"):
        load_references(spark, airports_csv=path, airlines_csv=None)
