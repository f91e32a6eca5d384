"""The job's one reader of the `airportsdata` package: the offline airports every layer shares (no Spark here).

`airportsdata` (pinned in pyproject.toml to a release of the last three months) gives each airport its ICAO code,
name, ISO 3166-1 alpha-2 country, coordinates and elevation. Only airports with an IATA code are kept, as the
feed names airports by IATA code. `FEED_CODE_ALIASES` adds the IATA codes the feed uses for an airport that
airportsdata files under another code; that airport's data still comes from airportsdata (by its ICAO code).
Its readers: the extractor's fallback list and the complement of FR24's (etl.extract.reference), the job's
airports tables (etl.reference) and the simulator's airports (etl.extract.simulate.world).
"""

from __future__ import annotations

from typing import Any

# Feed code -> ICAO code of the airport airportsdata knows under another IATA code (both seen in July 2025 captures).
FEED_CODE_ALIASES: dict[str, str] = {
    "XJD": "OTBH",  # Al Udeid Air Base, Qatar: IATA XJD; airportsdata 20260905 lists it as IUD
    "FRU": "UCFM",  # Manas International Airport, Bishkek: IATA FRU; airportsdata 20260905 lists it as BSZ
    "PBZ": "FAPG",  # Plettenberg Bay Airport, South Africa: listed without its IATA code
    "VDF": "KVDF",  # Tampa Executive Airport, Florida: listed without its IATA code
}


def airportsdata_airports() -> list[dict[str, Any]]:
    """Offline airports as RAW_AIRPORT_COLUMNS rows: IATA-coded ones plus FEED_CODE_ALIASES, ISO alpha-2 country."""
    import airportsdata

    by_icao = airportsdata.load("ICAO")
    airports = {a["iata"]: a for a in by_icao.values() if a.get("iata")}
    for code, icao in FEED_CODE_ALIASES.items():
        if code not in airports and icao in by_icao:
            airports[code] = by_icao[icao]
    return [
        {
            "iata": iata,
            "icao": a.get("icao", ""),
            "name": a.get("name", ""),
            "country": a.get("country", ""),
            "latitude": a.get("lat", ""),
            "longitude": a.get("lon", ""),
            "altitude": a.get("elevation", ""),
            "source": "airportsdata",
        }
        for iata, a in sorted(airports.items())
    ]


def airportsdata_version() -> str:
    """The installed airportsdata release."""
    import airportsdata

    return str(airportsdata.__version__)
