"""Clean rules on hand-made raw rows: each quarantine reason, N/A and empty values, duplicates, track types."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from etl.core.columns import QUARANTINE_SCHEMA, RAW_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.core.errors import SnapshotFormatError
from etl.transform.clean import RULES, clean_flights, read_raw_flights

GOOD = {
    "latitude": "10.5",
    "longitude": "20.25",
    "id": "a1",
    "icao_24bit": "39ac45",
    "heading": "90",
    "altitude": "35000",
    "ground_speed": "450",
    "squawk": "",
    "aircraft_code": "a320",
    "registration": "F-HBNA",
    "time": "1795356000",
    "origin_airport_iata": "CDG",
    "destination_airport_iata": "JFK",
    "number": "AF1",
    "airline_iata": "AF",
    "on_ground": "0",
    "vertical_speed": "-640",
    "callsign": "AFR1",
    "airline_icao": "AFR",
    "tile": "0,20,10,30",
    "requested_at": "2026-11-22T14:00:03Z",
    "origin_airport_icao": " lfpg",
    "destination_airport_icao": "KJFK",
}


def raw(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


ROWS = [
    raw(),  # kept
    raw(time="1795355990"),  # same id, older position: duplicate_id
    raw(id=""),  # missing_id
    raw(id="N/A"),  # missing_id (N/A is null)
    raw(id="m1", latitude=""),  # missing_coordinates
    raw(id="b1", latitude="91"),  # bad_coordinates: out of range
    raw(id="b2", longitude="abc"),  # bad_coordinates: not a number
    raw(id="b3", longitude="NaN"),  # bad_coordinates: not finite
    raw(id="n1", altitude="high"),  # bad_number
    raw(id="n2", on_ground="maybe"),  # bad_number
    raw(id="t1", time="yesterday"),  # bad_timestamp
    raw(id="s1", ground_speed="-12"),  # negative_speed
    raw(id="s2", ground_speed="0", vertical_speed="-1500"),  # kept: standing still, descending
    # truncated_row: a CSV line cut after its ground speed (480 read as 48), as the snapshot reader marks it
    raw(id="c9", ground_speed="48", squawk="", aircraft_code="", tile="truncated_row: line 9 has 6 of 19 fields"),
    raw(id="g1", aircraft_code="GRND", on_ground="1"),  # kept, flagged ground_vehicle
    raw(id="u1", registration="N/A", origin_airport_iata=" n/a ", aircraft_code=""),  # kept, nulls, unknown track
    raw(id="e1", latitude="-90", longitude="180"),  # kept: the edges are in range
    raw(id="d1", requested_at="2026-11-22T14:00:03Z"),  # same position time: the later request wins
    raw(id="d1", requested_at="2026-11-22T14:00:05Z", callsign="LATER"),
    raw(id="a1", latitude="-95"),  # unusable and a duplicate id: the first broken rule, bad_coordinates
]


@pytest.fixture(scope="module")
def result(spark: SparkSession):
    frame = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in ROWS], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    return clean_flights(frame)


def test_rule_counts_and_nothing_lost(result):
    assert result.rule_counts == {
        "truncated_row": 1,
        "missing_id": 2,
        "missing_coordinates": 1,
        "bad_coordinates": 4,
        "bad_number": 2,
        "negative_speed": 1,
        "bad_timestamp": 1,
        "duplicate_id": 2,
        "non_aircraft_flagged": 1,
        "na_normalised": 2,
    }
    assert set(result.rule_counts) == set(RULES)
    assert result.silver.count() + result.quarantine.count() == len(ROWS)


def test_schemas_are_the_contract(result):
    assert [(f.name, f.dataType.simpleString()) for f in result.silver.schema.fields] == [
        (n, t) for n, t in SILVER_FLIGHTS_SCHEMA.items()
    ]
    assert [(f.name, f.dataType.simpleString()) for f in result.quarantine.schema.fields] == list(
        QUARANTINE_SCHEMA.items()
    )


def test_quarantine_keeps_raw_text_and_reason(spark, result):
    got = result.quarantine.select("id", "latitude", "longitude", "callsign", "reason")
    want = spark.createDataFrame(
        [
            ("a1", "10.5", "20.25", "AFR1", "duplicate_id"),
            ("", "10.5", "20.25", "AFR1", "missing_id"),
            ("N/A", "10.5", "20.25", "AFR1", "missing_id"),
            ("m1", "", "20.25", "AFR1", "missing_coordinates"),
            ("b1", "91", "20.25", "AFR1", "bad_coordinates"),
            ("b2", "10.5", "abc", "AFR1", "bad_coordinates"),
            ("b3", "10.5", "NaN", "AFR1", "bad_coordinates"),
            ("n1", "10.5", "20.25", "AFR1", "bad_number"),
            ("n2", "10.5", "20.25", "AFR1", "bad_number"),
            ("t1", "10.5", "20.25", "AFR1", "bad_timestamp"),
            ("s1", "10.5", "20.25", "AFR1", "negative_speed"),
            ("c9", "10.5", "20.25", "AFR1", "truncated_row"),
            ("d1", "10.5", "20.25", "AFR1", "duplicate_id"),
            ("a1", "-95", "20.25", "AFR1", "bad_coordinates"),
        ],
        "id string, latitude string, longitude string, callsign string, reason string",
    )
    assertDataFrameEqual(got, want)


def test_first_row_fully_typed(spark, result):
    got = result.silver.where(F.col("flight_id") == "a1")
    row = (
        "a1", "39ac45", 10.5, 20.25, 90, 35000, 450, None, "A320", "F-HBNA", datetime(2026, 11, 22, 14, 0, 0),
        "CDG", "JFK", "AF1", "AF", "AFR", False, -640, "AFR1", "aircraft", True, "0,20,10,30",
        datetime(2026, 11, 22, 14, 0, 3), "LFPG", "KJFK",
    )  # fmt: skip
    want = spark.createDataFrame([row], ", ".join(f"{n} {t}" for n, t in SILVER_FLIGHTS_SCHEMA.items()))
    assertDataFrameEqual(got, want)


def test_flags_nulls_and_dedup_choice(spark, result):
    got = result.silver.select(
        "flight_id", "latitude", "longitude", "registration", "origin_iata", "aircraft_code", "on_ground",
        "callsign", "track_type", "is_aircraft",
    )  # fmt: skip
    want = spark.createDataFrame(
        [
            ("a1", 10.5, 20.25, "F-HBNA", "CDG", "A320", False, "AFR1", "aircraft", True),
            ("g1", 10.5, 20.25, "F-HBNA", "CDG", "GRND", True, "AFR1", "ground_vehicle", False),
            ("u1", 10.5, 20.25, None, None, None, False, "AFR1", "unknown", True),
            ("e1", -90.0, 180.0, "F-HBNA", "CDG", "A320", False, "AFR1", "aircraft", True),
            ("d1", 10.5, 20.25, "F-HBNA", "CDG", "A320", False, "LATER", "aircraft", True),
            ("s2", 10.5, 20.25, "F-HBNA", "CDG", "A320", False, "AFR1", "aircraft", True),
        ],
        "flight_id string, latitude double, longitude double, registration string, origin_iata string, "
        "aircraft_code string, on_ground boolean, callsign string, track_type string, is_aircraft boolean",
    )
    assertDataFrameEqual(got, want)


TRACK_TYPES = [("BALL", "balloon", False), ("DRON", "drone", False), ("SHIP", "ship", False),
               ("GLID", "glider", True), ("0000", "unknown", True), ("B738", "aircraft", True)]  # fmt: skip


@pytest.fixture(scope="module")
def track_types(spark: SparkSession) -> dict[str, tuple[str, bool]]:
    """aircraft code -> (track_type, is_aircraft) of one flight each, cleaned together."""
    rows = [raw(id=f"k{n}", aircraft_code=code) for n, (code, _, _) in enumerate(TRACK_TYPES)]
    frame = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in rows], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    silver = clean_flights(frame).silver.select("aircraft_code", "track_type", "is_aircraft").collect()
    found = {row["aircraft_code"] or "0000": (row["track_type"], row["is_aircraft"]) for row in silver}
    assert len(found) == len(TRACK_TYPES)  # every flight kept, each under its own code
    return found


@pytest.mark.parametrize(("code", "kind", "aircraft"), TRACK_TYPES)
def test_track_types(track_types, code, kind, aircraft):
    assert track_types[code] == (kind, aircraft)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def test_read_raw_flights_rfc4180_quotes(spark: SparkSession, tmp_path: Path):
    row = dict(GOOD, callsign='AF "1", heavy', registration="")
    path = write_csv(tmp_path / "flights.csv", list(RAW_COLUMNS), [[row[c] for c in RAW_COLUMNS]])
    frame: DataFrame = read_raw_flights(spark, path)
    assert frame.columns == list(RAW_COLUMNS)
    got = frame.first()
    assert got["callsign"] == 'AF "1", heavy'
    assert got["latitude"] == "10.5"
    assert got["registration"] in ("", None)  # an empty field; clean turns both into null


def test_read_raw_flights_refuses_missing_columns(spark: SparkSession, tmp_path: Path):
    path = write_csv(tmp_path / "bad.csv", ["latitude", "longitude"], [["1", "2"]])
    with pytest.raises(SnapshotFormatError, match="lacks column"):
        read_raw_flights(spark, path)


def test_raw_written_before_the_airport_icao_columns_reads_them_as_empty(spark: SparkSession, tmp_path: Path):
    older = [c for c in RAW_COLUMNS if c not in ("origin_airport_icao", "destination_airport_icao")]
    path = write_csv(tmp_path / "older.csv", older, [[GOOD[c] for c in older]])
    frame = read_raw_flights(spark, path)
    assert frame.columns == list(RAW_COLUMNS)
    [row] = clean_flights(frame).silver.select("origin_iata", "origin_icao", "destination_icao").collect()
    assert tuple(row) == ("CDG", None, None)


def test_a_capture_read_with_the_header_its_landing_wrote_reads_as_with_the_header_spark_finds(
    spark: SparkSession, tmp_path: Path
):
    from etl.extract.landing import RawLanding, raw_csv

    rows = [dict(GOOD, callsign='AF "1", heavy'), dict(GOOD, id="a2", latitude=" 11.0 ", registration="")]
    path = tmp_path / "capture.csv"
    path.write_bytes(raw_csv(rows))  # as a run's landing writes it
    header = RawLanding.__dataclass_fields__["raw_columns"].default  # what a landing reports it wrote

    known = read_raw_flights(spark, [str(path)], header=header)

    assert known.columns == list(RAW_COLUMNS)
    assertDataFrameEqual(known, read_raw_flights(spark, str(path)))
    assert sorted(r["latitude"] for r in known.collect()) == [" 11.0 ", "10.5"]  # as received


def test_read_raw_flights_missing_file(spark: SparkSession, tmp_path: Path):
    with pytest.raises(SnapshotFormatError, match="cannot read"):
        read_raw_flights(spark, str(tmp_path / "nope.csv"))


def test_repeated_ids_identical_copies_and_three_way(spark: SparkSession):
    rows = [
        raw(id="c1"),  # two identical copies: one kept, one duplicate_id
        raw(id="c1"),
        raw(id="t3", time="1795355990"),  # three rows of one id: the newest position wins
        raw(id="t3", time="1795356010", callsign="NEWEST"),
        raw(id="t3", time="1795356000"),
        raw(id="t3", latitude="N/A"),  # unusable rows of a repeated id keep their own reason
        raw(id="s1", callsign=" n/A "),  # seen once: never a duplicate
        raw(id="p1"),  # one usable and one unusable row of an id: no duplicate, each row keeps its own fate
        raw(id="p1", altitude="high"),
    ]
    frame = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in rows], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    result = clean_flights(frame)
    assert sorted((r["flight_id"], r["callsign"]) for r in result.silver.collect()) == [
        ("c1", "AFR1"),
        ("p1", "AFR1"),
        ("s1", None),
        ("t3", "NEWEST"),
    ]
    assert sorted((r["id"], r["time"], r["altitude"], r["reason"]) for r in result.quarantine.collect()) == [
        ("c1", "1795356000", "35000", "duplicate_id"),
        ("p1", "1795356000", "high", "bad_number"),
        ("t3", "1795355990", "35000", "duplicate_id"),
        ("t3", "1795356000", "35000", "duplicate_id"),
        ("t3", "1795356000", "35000", "missing_coordinates"),
    ]
    assert result.rule_counts["duplicate_id"] == 3
    assert result.rule_counts["missing_coordinates"] == 1
    assert result.rule_counts["bad_number"] == 1
    assert result.rule_counts["na_normalised"] == 2


def test_snapshots_cleaned_at_once_are_each_cleaned_as_on_their_own(spark: SparkSession):
    # Two slots' captures in one frame: an id seen once in each slot is a duplicate in neither; within a slot the
    # newest still wins. Each slot's counts, silver and quarantine are what cleaning it alone gives.
    by_slot = {
        "2026-11-22T14": [raw(id="x1"), raw(id="x1", time="1795355990"), raw(id="m1", latitude="")],
        "2026-11-22T16": [raw(id="x1", callsign="LATER"), raw(id="y1", altitude="high")],
    }
    schema = ", ".join(f"{c} string" for c in RAW_COLUMNS)
    together = spark.createDataFrame(
        [(*(r[c] for c in RAW_COLUMNS), slot) for slot, rows in by_slot.items() for r in rows], f"{schema}, slot string"
    )

    result = clean_flights(together, key="slot")

    for slot, rows in by_slot.items():
        alone = clean_flights(spark.createDataFrame([tuple(r[c] for c in RAW_COLUMNS) for r in rows], schema))
        assert result.rule_counts_by_key[slot] == alone.rule_counts, slot
        silver = sorted(tuple(r) for r in result.silver.where(f"slot = '{slot}'").drop("slot").collect())
        assert silver == sorted(tuple(r) for r in alone.silver.collect()), slot
        quarantine = sorted(tuple(r) for r in result.quarantine.where(f"slot = '{slot}'").drop("slot").collect())
        assert quarantine == sorted(tuple(r) for r in alone.quarantine.collect()), slot
    assert result.rule_counts_by_key["2026-11-22T14"]["duplicate_id"] == 1
    assert result.rule_counts_by_key["2026-11-22T16"]["duplicate_id"] == 0
    assert result.rule_counts["duplicate_id"] == 1 and result.rule_counts["bad_number"] == 1


TIME_TEXTS = [  # id, position time as captured, the instant clean reads (UTC)
    ("s", "1752914978", datetime(2025, 7, 19, 8, 49, 38)),  # epoch seconds, as the feed sends
    ("sf", "1752914978.5", datetime(2025, 7, 19, 8, 49, 38, 500000)),
    ("ms", "1752914978000", datetime(2025, 7, 19, 8, 49, 38)),  # epoch milliseconds
    ("txt", "2024-04-18 17:17:22", datetime(2024, 4, 18, 17, 17, 22)),  # date-time text, no zone: UTC
    ("z", "2024-04-18T17:17:22Z", datetime(2024, 4, 18, 17, 17, 22)),
    ("off", "2024-04-18T19:17:22.250+02:00", datetime(2024, 4, 18, 17, 17, 22, 250000)),  # offset applied
    ("pq", "2024-04-18T17:17:22.500000Z", datetime(2024, 4, 18, 17, 17, 22, 500000)),  # a Parquet timestamp's text
]
BAD_TIME_TEXTS = ["12:00", "2024-13-45 10:00:00", "yesterday", "-5", "5000000000000000", "2100-01-01T00:00:00Z"]


def test_position_time_formats(spark: SparkSession):
    rows = [raw(id=i, time=text) for i, text, _ in TIME_TEXTS]
    rows += [raw(id=f"bad{n}", time=text) for n, text in enumerate(BAD_TIME_TEXTS)]
    frame = spark.createDataFrame(
        [tuple(r[c] for c in RAW_COLUMNS) for r in rows], ", ".join(f"{c} string" for c in RAW_COLUMNS)
    )
    cleaned = clean_flights(frame)
    silver = sorted(tuple(r) for r in cleaned.silver.select("flight_id", "position_time").collect())
    assert silver == sorted((i, moment) for i, _, moment in TIME_TEXTS)
    quarantined = sorted(tuple(r) for r in cleaned.quarantine.select("id", "time", "reason").collect())
    assert quarantined == sorted((f"bad{n}", text, "bad_timestamp") for n, text in enumerate(BAD_TIME_TEXTS))


def test_a_cut_capture_line_is_quarantined_as_truncated_row_through_raw(spark, tmp_path):
    from etl.extract.landing import raw_csv
    from etl.extract.sources import snapshot
    from etl.transform.clean import TRUNCATED_ROW

    assert snapshot.TRUNCATED_ROW == TRUNCATED_ROW  # the reader's mark is the rule clean looks for
    header = "id,latitude,longitude,altitude,ground_speed,time,on_ground,callsign"
    capture = tmp_path / "capture.csv"
    capture.write_text(f"{header}\nk1,10.5,20.25,35000,480,1795356000,0,AFR1\nc1,11.5,21.25,36000,48")
    raw_file = tmp_path / "raw.csv"
    raw_file.write_bytes(raw_csv(snapshot.read_snapshot(str(capture)).rows))

    result = clean_flights(read_raw_flights(spark, str(raw_file)))

    assert [r.flight_id for r in result.silver.collect()] == ["k1"]
    got = [(r.id, r.ground_speed, r.tile, r.reason) for r in result.quarantine.collect()]
    assert got == [("c1", "48", "truncated_row: line 3 has 5 of 8 fields", "truncated_row")]
