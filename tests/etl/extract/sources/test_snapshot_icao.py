"""Snapshot replay carries the airports' ICAO codes into raw when a capture has them, under any of their names."""

from __future__ import annotations

from etl.core.columns import RAW_COLUMNS
from etl.extract.sources.snapshot import read_snapshot


def test_icao_airport_columns_are_carried_into_raw(tmp_path):
    path = tmp_path / "flights_20261122_140000.csv"
    path.write_text("fr24_id,lat,lon,orig_iata,orig_icao,dest_icao\n3b1,46.5,4.6,,LFQA,LFNE\n3b2,51.4,-0.5,LHR,EGLL,\n")
    snapshot = read_snapshot(str(path))
    assert [list(r) for r in snapshot.rows] == [list(RAW_COLUMNS)] * 2
    got = [(r["origin_airport_iata"], r["origin_airport_icao"], r["destination_airport_icao"]) for r in snapshot.rows]
    assert got == [("", "LFQA", "LFNE"), ("LHR", "EGLL", "")]
    assert snapshot.renamed_columns["orig_icao"] == "origin_airport_icao"
    assert snapshot.renamed_columns["dest_icao"] == "destination_airport_icao"
    # The ICAO columns are no FlightRadarAPI attribute: a capture without them lacks nothing a KPI needs.
    assert "origin_airport_icao" not in snapshot.missing_optional


def test_a_capture_without_icao_columns_has_them_empty(tmp_path):
    path = tmp_path / "flights.csv"
    path.write_text("id,latitude,longitude,origin_airport_iata\n3b1,46.5,4.6,CDG\n")
    [row] = read_snapshot(str(path)).rows
    assert (row["origin_airport_iata"], row["origin_airport_icao"], row["destination_airport_icao"]) == ("CDG", "", "")
