from __future__ import annotations

import json

import pytest

from etl.core.columns import FLIGHT_FIELDS, RAW_COLUMNS
from etl.core.errors import SnapshotFormatError
from etl.extract.sources.snapshot import read_snapshot
from tests.paths import SAMPLES

HEADER = ",".join(FLIGHT_FIELDS)
LINE_1 = "45.80800,8.7723,3a9f26a5,DF0862,180,793,0,,GRND,,1752914961,,,,,0,0,LILC,"
LINE_2 = '51.4700,-0.4543,3b0c1d2e,4CA1B2,270,36000,480,,A320,"G-EUYA",1752914970,LHR,MAD,BA456,BA,0,-64,BAW456,BAW'


def _check_two_rows(rows):
    assert [r["id"] for r in rows] == ["3a9f26a5", "3b0c1d2e"]
    assert rows[0]["latitude"] == "45.80800"  # kept exactly as written, not re-rendered as 45.808
    assert rows[0]["aircraft_code"] == "GRND" and rows[0]["number"] == ""
    assert rows[1]["registration"] == "G-EUYA" and rows[1]["vertical_speed"] == "-64"
    assert all(list(r) == list(RAW_COLUMNS) for r in rows)


def test_csv_comma(tmp_path):
    path = tmp_path / "capture.csv"
    path.write_text(f"{HEADER}\n{LINE_1}\n{LINE_2}\n")
    snap = read_snapshot(str(path))
    assert snap.format == "csv"
    _check_two_rows(snap.rows)
    assert snap.rows[0]["tile"] == "" and snap.rows[0]["requested_at"] == ""


def test_csv_semicolon_with_bom_and_extra_columns(tmp_path):
    header = HEADER.replace(",", ";") + ";departure_time;arrival_time"
    lines = [line.replace(",", ";").replace('"', "") + ";1752900000;" for line in (LINE_1, LINE_2)]
    path = tmp_path / "flights_20250720_173227.csv"
    path.write_text("\ufeff" + "\n".join([header, *lines]) + "\n", encoding="utf-8")
    snap = read_snapshot(str(path))
    _check_two_rows(snap.rows)
    assert snap.ignored_columns == ["arrival_time", "departure_time"]
    assert snap.rows[0]["requested_at"] == "2025-07-20T17:32:27Z"  # the capture time in the file name


def test_csv_missing_optional_columns_are_empty(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("id,latitude,longitude,time\nabc1,10.5,-20.25,1752914961\n")
    snap = read_snapshot(str(path))
    row = snap.rows[0]
    assert (row["id"], row["latitude"], row["longitude"], row["time"]) == ("abc1", "10.5", "-20.25", "1752914961")
    assert row["aircraft_code"] == "" and row["on_ground"] == ""
    assert "aircraft_code" in snap.missing_optional and "id" not in snap.missing_optional


def test_json_records(tmp_path):
    records = [
        {
            "id": "3a9f26a5",
            "latitude": 45.80800,
            "longitude": 8.7723,
            "on_ground": 0,
            "aircraft_code": "GRND",
            "number": None,
        },
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records).replace("45.808", "45.80800"))
    row = read_snapshot(str(path)).rows[0]
    assert (row["id"], row["latitude"], row["longitude"], row["on_ground"]) == ("3a9f26a5", "45.80800", "8.7723", "0")
    assert row["number"] == "" and row["callsign"] == ""


def test_json_feed_shape_ignores_non_flight_keys(tmp_path):
    body = (
        '{"full_count": 2, "version": 4,'
        ' "3b0c1d2e": ["4CA1B2", 51.47, -0.4543, 270, 36000, 480, "", "T-EGLL1", "A320", "G-EUYA", 1752914970,'
        ' "LHR", "MAD", "BA456", 0, -64, "BAW456", 0, "BAW"],'
        ' "3a9f26a5": ["DF0862", 45.808, 8.7723, 180, 793, 0, "", "F-LIMC1", "GRND", "", 1752914961,'
        ' "", "", "", 0, 0, "LILC", 0, ""],'
        ' "stats": {"total": {"ads-b": 2}}}'
    )
    path = tmp_path / "feed.json"
    path.write_text(body)
    rows = read_snapshot(str(path)).rows
    assert [r["id"] for r in rows] == ["3b0c1d2e", "3a9f26a5"]
    first = rows[0]
    assert first["icao_24bit"] == "4CA1B2" and first["latitude"] == "51.47" and first["longitude"] == "-0.4543"
    assert first["aircraft_code"] == "A320" and first["time"] == "1752914970" and first["number"] == "BA456"
    assert first["airline_iata"] == "BA" and first["airline_icao"] == "BAW" and first["callsign"] == "BAW456"
    assert first["origin_airport_iata"] == "LHR" and first["destination_airport_iata"] == "MAD"
    assert rows[1]["airline_iata"] == "" and rows[1]["aircraft_code"] == "GRND"


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": ["3a9f26a5", "3b0c1d2e"],
            "latitude": [45.808, 51.47],
            "longitude": [8.7723, -0.4543],
            "altitude": [793, None],
            "on_ground": [True, False],
            "departure_time": [1, 2],
        }
    )
    path = tmp_path / "capture.parquet"
    pq.write_table(table, path)
    snap = read_snapshot(str(path))
    assert snap.format == "parquet"
    assert [(r["id"], r["latitude"], r["altitude"], r["on_ground"]) for r in snap.rows] == [
        ("3a9f26a5", "45.808", "793", "1"),
        ("3b0c1d2e", "51.47", "", "0"),
    ]
    assert snap.ignored_columns == ["departure_time"]


def test_missing_required_columns_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("lat_deg,longitude,callsign\n1,2,ABC\n")
    with pytest.raises(SnapshotFormatError, match=r"bad\.csv: missing required column\(s\) id, latitude \(needs"):
        read_snapshot(str(path))


def test_json_records_missing_required_are_named(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"id": "1", "lat": 2}]')
    # `lat` is read as latitude (an alias); longitude is still missing.
    with pytest.raises(SnapshotFormatError, match=r"missing required column\(s\) longitude \(needs"):
        read_snapshot(str(path))


def test_unknown_format_is_refused(tmp_path):
    path = tmp_path / "capture.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(SnapshotFormatError, match=r"unknown format '\.xlsx'; use \.csv, \.json or \.parquet"):
        read_snapshot(str(path))


def test_unreadable_parquet_and_missing_file_are_refused(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(SnapshotFormatError, match="not readable as parquet"):
        read_snapshot(str(path))
    with pytest.raises(SnapshotFormatError, match="file not found"):
        read_snapshot(str(tmp_path / "absent.csv"))


def test_csv_line_with_too_many_fields_is_refused(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("id,latitude,longitude\n1,2,3,4\n")
    with pytest.raises(SnapshotFormatError, match="line 2 has 4 fields, the header 3"):
        read_snapshot(str(path))


def test_csv_cut_mid_line_keeps_the_cut_row_marked_for_quarantine(tmp_path):
    cut = LINE_2[: LINE_2.index(",480,") + 3]  # the ground speed 480 cut to 48, no final newline
    path = tmp_path / "cut.csv"
    path.write_text(f"{HEADER}\n{LINE_1}\n{cut}")
    snap = read_snapshot(str(path))
    assert [(r["id"], r["ground_speed"], r["tile"]) for r in snap.rows] == [
        ("3a9f26a5", "0", ""),
        ("3b0c1d2e", "48", "truncated_row: line 3 has 7 of 19 fields"),
    ]
    assert snap.rows[1]["airline_icao"] == "" and list(snap.rows[1]) == list(RAW_COLUMNS)


def test_csv_rows_that_lost_fields_are_marked_each_with_its_line(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_text("id,latitude,longitude,ground_speed\n1,2,3,400\n2,5\n3,6,7,300\n4,8,9\n")
    snap = read_snapshot(str(path))
    assert [(r["id"], r["tile"]) for r in snap.rows] == [
        ("1", ""),
        ("2", "truncated_row: line 3 has 2 of 4 fields"),
        ("3", ""),
        ("4", "truncated_row: line 5 has 3 of 4 fields"),
    ]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples/fr24 is not present")
def test_real_captures_read_through_read_snapshot():
    files = sorted(SAMPLES.glob("flights_*.csv"))
    assert files
    for path in files:
        snap = read_snapshot(str(path))
        first_line = path.read_text(encoding="utf-8").splitlines()[1].split(",")
        assert snap.rows[0]["latitude"] == first_line[0] and snap.rows[0]["id"] == first_line[2]
        assert len(snap.rows) == len(path.read_text(encoding="utf-8").splitlines()) - 1
        day, hms = path.stem.split("_")[1:3]  # flights_YYYYMMDD_HHMMSS
        expected = f"{day[:4]}-{day[4:6]}-{day[6:]}T{hms[:2]}:{hms[2:4]}:{hms[4:]}Z"
        assert {r["requested_at"] for r in snap.rows} == {expected}


def test_published_spellings_are_mapped_and_recorded(tmp_path):
    # A kata-style capture: origin/destination, company for the airline ICAO code, model for the aircraft code,
    # with a column nobody knows.
    path = tmp_path / "capture.csv"
    path.write_text(
        "id,latitude,longitude,on_ground,Origin,destination,company,model,time,squawk_mode\n"
        "f1,48.9,2.5,0,CDG,JFK,AFR,A359,1752914961,x\n"
    )
    snap = read_snapshot(str(path))
    row = snap.rows[0]
    assert (row["origin_airport_iata"], row["destination_airport_iata"]) == ("CDG", "JFK")
    assert (row["airline_icao"], row["aircraft_code"]) == ("AFR", "A359")
    assert snap.renamed_columns == {
        "Origin": "origin_airport_iata",
        "company": "airline_icao",
        "destination": "destination_airport_iata",
        "model": "aircraft_code",
    }
    assert snap.ignored_columns == ["squawk_mode"]
    assert "origin_airport_iata" not in snap.missing_optional
    assert "airline_iata" in snap.missing_optional


def test_the_official_api_spellings_are_mapped(tmp_path):
    # Field names of the official API's flight positions (fr24sdk).
    path = tmp_path / "positions.json"
    record = {
        "fr24_id": "3b0c1d2e",
        "lat": 51.47,
        "lon": -0.4543,
        "alt": 36000,
        "gspeed": 480,
        "vspeed": -64,
        "track": 270,
        "hex": "4CA1B2",
        "type": "A320",
        "reg": "G-EUYA",
        "timestamp": "2025-07-19T08:49:30Z",
        "orig_iata": "LHR",
        "dest_iata": "MAD",
        "operating_as": "BAW",
        "flight": "BA456",
    }
    path.write_text(json.dumps([record]))
    row = read_snapshot(str(path)).rows[0]
    assert {k: row[k] for k in FLIGHT_FIELDS if row[k]} == {
        "latitude": "51.47",
        "longitude": "-0.4543",
        "id": "3b0c1d2e",
        "icao_24bit": "4CA1B2",
        "heading": "270",
        "altitude": "36000",
        "ground_speed": "480",
        "aircraft_code": "A320",
        "registration": "G-EUYA",
        "time": "2025-07-19T08:49:30Z",
        "origin_airport_iata": "LHR",
        "destination_airport_iata": "MAD",
        "number": "BA456",
        "vertical_speed": "-64",
        "airline_icao": "BAW",
    }


def test_a_column_named_like_the_attribute_wins_over_its_alias(tmp_path):
    path = tmp_path / "both.csv"
    path.write_text("id,latitude,longitude,origin_airport_iata,origin\nf1,1,2,LHR,Heathrow\n")
    snap = read_snapshot(str(path))
    assert snap.rows[0]["origin_airport_iata"] == "LHR"
    assert snap.renamed_columns == {}
    assert snap.ignored_columns == ["origin"]


def test_parquet_timestamps_become_iso_text(tmp_path):
    from datetime import datetime, timezone

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "capture.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "latitude": [1.0, 2.0, 3.0],
            "longitude": [4.0, 5.0, 6.0],
            "time": pa.array(
                [
                    datetime(2024, 4, 18, 17, 17, 22, tzinfo=timezone.utc),
                    datetime(2024, 4, 18, 17, 17, 22, 500000, tzinfo=timezone.utc),
                    None,
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "naive": pa.array([datetime(2024, 4, 18, 19, 0, 0)] * 3, pa.timestamp("ms")),
        }
    )
    pq.write_table(table, path)
    snap = read_snapshot(str(path))
    assert [r["time"] for r in snap.rows] == ["2024-04-18T17:17:22Z", "2024-04-18T17:17:22.500000Z", ""]
    assert snap.ignored_columns == ["naive"]
