"""Snapshot replay: a recorded capture (CSV, JSON or Parquet) read as raw rows instead of the live feed.

A CSV line with fewer fields than the header (a file cut mid-line, a row that lost its last fields) is kept, not
refused: its row is quarantined by clean with reason `truncated_row`, the rest of the capture is used, and nothing is
lost. Its raw `tile` (the request a row came from, empty for a snapshot) says so: `truncated_row: line N has K of M
fields`, and the quarantine keeps that text with the row as received. Why not refuse the file: the rows before a cut
are sound, a malformed row is the clean stage's to quarantine (as a bad number or coordinate is), and the quality
gate's quarantine share still fails a capture that is mostly damaged. A line with more fields than the header is
refused with its line number: the separator or the quoting is wrong, so no row of the file can be trusted. A cut
that falls inside the last field of a complete last line cannot be told from a file without a final newline.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from etl.core.columns import FLIGHT_FIELDS, RAW_AIRPORT_ICAO_COLUMNS, RAW_REQUESTED_AT, RAW_TILE, REQUIRED_FLIGHT_FIELDS
from etl.core.errors import SnapshotFormatError
from etl.core.log import log_event
from etl.core.storage import LocalStorage, Storage

if TYPE_CHECKING:
    from etl.core.config import JobConfig

FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
# Where the feed's 19-value arrays put each attribute (airline_iata is not sent: FlightRadarAPI derives it).
WIRE_INDEX: dict[str, int] = {
    "icao_24bit": 0,
    "latitude": 1,
    "longitude": 2,
    "heading": 3,
    "altitude": 4,
    "ground_speed": 5,
    "squawk": 6,
    "aircraft_code": 8,
    "registration": 9,
    "time": 10,
    "origin_airport_iata": 11,
    "destination_airport_iata": 12,
    "number": 13,
    "on_ground": 14,
    "vertical_speed": 15,
    "callsign": 16,
    "airline_icao": 18,
}
_NAME_TIME = re.compile(r"(\d{8})[_T-]?(\d{6})")
# The raw `tile` of a CSV row that had fewer fields than the header; clean quarantines it as `truncated_row`
# (etl.transform.clean.TRUNCATED_ROW). The key a short record carries it under cannot be a CSV header name.
TRUNCATED_ROW = "truncated_row"
_TRUNCATED_KEY = "\x00truncated_row"

# Other spellings of the FlightRadarAPI `Flight` attributes, as published captures name them (matched ignoring
# case). From the official Flightradar24 API's flight positions (fr24sdk: fr24_id, hex, lat, lon, track, alt,
# gspeed, vspeed, timestamp, type, reg, flight, orig_iata, dest_iata, operating_as) and from kata repositories'
# captures (origin, destination, company, model, ...). A column named like an attribute wins over an alias of it;
# an alias whose attribute is already taken is listed as ignored, like any other unknown column.
COLUMN_ALIASES: dict[str, str] = {
    "fr24_id": "id",
    "flight_id": "id",
    "lat": "latitude",
    "lon": "longitude",
    "lng": "longitude",
    "long": "longitude",
    "hex": "icao_24bit",
    "icao24": "icao_24bit",
    "icao_24": "icao_24bit",
    "track": "heading",
    "alt": "altitude",
    "gspeed": "ground_speed",
    "speed": "ground_speed",
    "vspeed": "vertical_speed",
    "type": "aircraft_code",
    "model": "aircraft_code",
    "aircraft_type": "aircraft_code",
    "reg": "registration",
    "timestamp": "time",
    "orig_iata": "origin_airport_iata",
    "org_iata": "origin_airport_iata",
    "origin": "origin_airport_iata",
    "origin_iata": "origin_airport_iata",
    "dest_iata": "destination_airport_iata",
    "destination": "destination_airport_iata",
    "destination_iata": "destination_airport_iata",
    "flight": "number",
    "flight_number": "number",
    "company": "airline_icao",
    "operating_as": "airline_icao",
    "onground": "on_ground",
    "is_on_ground": "on_ground",
    # The airports' ICAO codes (raw's RAW_AIRPORT_ICAO_COLUMNS), as the official API names them.
    "orig_icao": "origin_airport_icao",
    "origin_icao": "origin_airport_icao",
    "dest_icao": "destination_airport_icao",
    "destination_icao": "destination_airport_icao",
}
# The columns a capture's values are carried into: the FlightRadarAPI attributes, then the airports' ICAO codes.
CARRIED_FIELDS: tuple[str, ...] = (*FLIGHT_FIELDS, *RAW_AIRPORT_ICAO_COLUMNS)


@dataclass
class Snapshot:
    """A recorded capture as raw rows (FLIGHT_FIELDS + tile + requested_at, all text)."""

    path: str
    format: str
    rows: list[dict[str, str]]
    captured_at: str = ""  # from the file name (flights_YYYYMMDD_HHMMSS.*), "" when it says nothing
    missing_optional: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)  # capture's name -> FlightRadarAPI name


def resolve_columns(columns: list[str] | set[str]) -> dict[str, str]:
    """Capture column -> FlightRadarAPI attribute, for the columns that are one (by name or alias, any case)."""
    ordered = sorted(columns)
    chosen: dict[str, str] = {}  # attribute -> capture column
    for name in ordered:  # exact names (any case) first: they win over aliases
        canonical = name.strip().lower()
        if canonical in CARRIED_FIELDS and canonical not in chosen:
            chosen[canonical] = name
    alias_order = list(COLUMN_ALIASES)
    aliased = sorted(
        (n for n in ordered if n.strip().lower() in COLUMN_ALIASES), key=lambda n: alias_order.index(n.strip().lower())
    )
    for name in aliased:
        canonical = COLUMN_ALIASES[name.strip().lower()]
        if canonical not in chosen:
            chosen[canonical] = name
    return {source: canonical for canonical, source in chosen.items()}


def capture(config: JobConfig, storage: Storage) -> Snapshot:
    """The source's factory (etl.core.source_registry): the recording config.snapshot_path names, read through
    storage."""
    if config.snapshot_path is None:  # JobConfig.validate() refuses it first
        raise ValueError("source 'snapshot' needs snapshot_path")
    return read_snapshot(config.snapshot_path, storage)


def read_snapshot(path: str, storage: Storage | None = None) -> Snapshot:
    """Read a capture by its extension; refuse an unknown format or one without id, latitude, longitude."""
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name).suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise SnapshotFormatError(
            f"snapshot {path}: unknown format {suffix or '(no extension)'!r}; use .csv, .json or .parquet"
        )
    store = storage or LocalStorage()
    try:
        data = store.read_bytes(path)
    except FileNotFoundError:
        raise SnapshotFormatError(f"snapshot {path}: file not found") from None
    try:
        records, columns = {"csv": _read_csv, "json": _read_json, "parquet": _read_parquet}[kind](data)
    except SnapshotFormatError as exc:
        raise SnapshotFormatError(f"snapshot {path}: {exc}") from None
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise SnapshotFormatError(f"snapshot {path}: not readable as {kind}: {exc}") from None
    resolved = resolve_columns(columns)
    present = set(resolved.values())
    missing = [c for c in REQUIRED_FLIGHT_FIELDS if c not in present]
    if records and missing:
        raise SnapshotFormatError(
            f"snapshot {path}: missing required column(s) {', '.join(missing)} "
            f"(needs at least {', '.join(REQUIRED_FLIGHT_FIELDS)}; columns found: {', '.join(sorted(columns))})"
        )
    captured_at = _time_from_name(name)
    source_of = {canonical: source for source, canonical in resolved.items()}
    rows = []
    for record in records:
        row = {c: record.get(source_of[c], "") if c in source_of else "" for c in FLIGHT_FIELDS}
        row[RAW_TILE] = record.get(_TRUNCATED_KEY, "")
        row[RAW_REQUESTED_AT] = captured_at
        row.update({c: record.get(source_of[c], "") if c in source_of else "" for c in RAW_AIRPORT_ICAO_COLUMNS})
        rows.append(row)
    truncated = [r[RAW_TILE] for r in rows if r[RAW_TILE]]
    if truncated:
        log_event("snapshot_truncated_rows", logging.WARNING, path=path, rows=len(truncated), first=truncated[0])
    return Snapshot(
        path=path,
        format=kind,
        rows=rows,
        captured_at=captured_at,
        missing_optional=[c for c in FLIGHT_FIELDS if c not in present],
        ignored_columns=sorted(c for c in columns if c not in resolved),
        renamed_columns={source: canonical for source, canonical in sorted(resolved.items()) if source != canonical},
    )


def _time_from_name(name: str) -> str:
    match = _NAME_TIME.search(name)
    if not match:
        return ""
    try:
        moment = datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_csv(data: bytes) -> tuple[list[dict[str, str]], set[str]]:
    text = data.decode("utf-8-sig")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = [h.strip() for h in next(reader, [])]
    records = []
    for values in reader:
        if not values or values == [""]:
            continue
        if len(values) > len(names):
            raise SnapshotFormatError(
                f"line {reader.line_num} has {len(values)} fields, the header {len(names)} ({delimiter!r} separated)"
            )
        record = dict(zip(names, values + [""] * (len(names) - len(values)), strict=True))
        if len(values) < len(names):  # cut or damaged: kept, to be quarantined as truncated_row (module docstring)
            record[_TRUNCATED_KEY] = f"{TRUNCATED_ROW}: line {reader.line_num} has {len(values)} of {len(names)} fields"
        records.append(record)
    return records, set(names)


def _json_text(value: Any) -> str:
    """A JSON value as text: numbers as written in the file, null as "", true/false as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _read_json(data: bytes) -> tuple[list[dict[str, str]], set[str]]:
    # Numbers stay the text they were written as: 45.80800 must not become 45.808.
    doc = json.loads(data.decode("utf-8-sig"), parse_float=str, parse_int=str)
    if isinstance(doc, list):
        if not all(isinstance(r, dict) for r in doc):
            raise SnapshotFormatError("a JSON list must hold one object per flight")
        columns = {k for r in doc for k in r}
        return [{k: _json_text(v) for k, v in r.items()} for r in doc], columns
    if isinstance(doc, dict):
        # The feed's own answer: {"full_count": ..., "version": ..., "<flight id>": [19 values], "stats": {...}}.
        flights = {k: v for k, v in doc.items() if isinstance(v, list) and k[:1].isdigit()}
        if not flights and any(isinstance(v, list) for v in doc.values()):
            raise SnapshotFormatError("JSON object has lists but none keyed by a flight id")
        records = []
        for flight_id, values in flights.items():
            if len(values) <= WIRE_INDEX["airline_icao"]:
                raise SnapshotFormatError(f"flight {flight_id} has {len(values)} values, the feed sends 19")
            record = {name: _json_text(values[i]) for name, i in WIRE_INDEX.items()}
            record["id"] = flight_id
            number = record["number"]
            record["airline_iata"] = number[:2] if number and number != "N/A" else ""
            records.append(record)
        return records, set(FLIGHT_FIELDS)
    raise SnapshotFormatError("JSON must be a list of flight objects or the feed's {flight_id: [values]} object")


def _parquet_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"  # the feed's own spelling of on_ground
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, datetime):
        # A Parquet/Arrow timestamp: ISO-8601 UTC text, which clean reads (a zone-less timestamp is taken as UTC).
        moment = value.astimezone(timezone.utc) if value.tzinfo else value
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _read_parquet(data: bytes) -> tuple[list[dict[str, str]], set[str]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own ArrowInvalid and friends
        raise SnapshotFormatError(f"not readable as parquet: {exc}") from None
    columns = set(table.column_names)
    wanted = list(resolve_columns(columns))
    records = [{k: _parquet_text(v) for k, v in r.items()} for r in table.select(wanted).to_pylist()]
    return records, columns
