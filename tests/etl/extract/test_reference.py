"""FR24's airports list completed by airportsdata: the feed's own codes kept, every other IATA code still known."""

from __future__ import annotations

from etl.extract.reference import completed_with_airportsdata

# Two rows as FlightRadarFeed.fetch_airports gives them: JFK under FR24's own name, and a glider field FR24 names with
# its own code (a Q code: the field has none from IATA).
FR24_ROWS = [
    {
        "iata": "JFK",
        "icao": "KJFK",
        "name": "New York John F. Kennedy International Airport",
        "country": "United States",
    },
    {"iata": "QPP", "icao": "", "name": "Example Gliding Field", "country": "Germany"},
]


def test_fr24_rows_come_first_and_airportsdata_fills_the_codes_they_lack() -> None:
    rows = completed_with_airportsdata(lambda: [dict(r) for r in FR24_ROWS])()

    by_code = {r["iata"]: r for r in rows}
    assert rows[:2] == FR24_ROWS  # FR24's rows unchanged, first; land_reference marks them "fr24"
    assert [r["iata"] for r in rows].count("JFK") == 1
    assert by_code["JFK"]["name"] == "New York John F. Kennedy International Airport"
    assert by_code["QPP"]["country"] == "Germany"
    # Airports FR24's two rows leave out, as airportsdata lists them (ISO country codes).
    assert (by_code["CDG"]["icao"], by_code["CDG"]["country"], by_code["CDG"]["source"]) == (
        "LFPG",
        "FR",
        "airportsdata",
    )
    assert (by_code["NRT"]["icao"], by_code["NRT"]["country"]) == ("RJAA", "JP")
    assert by_code["XJD"]["icao"] == "OTBH"  # the feed's code for Al Udeid, an alias airportsdata files as IUD


def test_an_empty_fr24_list_stays_empty_so_the_caller_falls_back() -> None:
    assert completed_with_airportsdata(list)() == []
