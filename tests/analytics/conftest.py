"""A local data lake for the analytics tests, written once per session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from etl.columns import GOLD_SCHEMAS, QUARANTINE_SCHEMA, RAW_COLUMNS, SILVER_FLIGHTS_SCHEMA
from etl.layout import RunSlot, manifest_path, raw_flights_file, table_partition

SLOTS = (RunSlot.parse("2026-11-22T14"), RunSlot.parse("2026-11-22T16"))
GROUP_COLUMNS = ("continent", "airline_country")
_DUCK_TYPES = {"int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN"}


@dataclass(frozen=True)
class Lake:
    """A data root with the runs of SLOTS, and their manifests."""

    root: str
    slots: tuple[RunSlot, ...]
    manifests: tuple[dict, ...]


def _value(column: str, kind: str, group: int, rank: int, slot_no: int) -> str:
    if column == "rank":
        return str(rank)
    if column in GROUP_COLUMNS:
        return f"'{['Europe', 'Asia'][group]}'"
    if kind == "string":
        return f"'{column[:3].upper()}{group}{rank}'"
    if kind == "bigint":
        return str(100 * (slot_no + 1) - 10 * rank - group)
    return str(5000.5 - 100 * rank + slot_no)


def _write_synthetic(root: Path) -> Lake:
    con = duckdb.connect()
    manifests = []
    for slot_no, slot in enumerate(SLOTS):
        gold_counts = {}
        for table, schema in GOLD_SCHEMAS.items():
            groups = 2 if any(c in schema for c in GROUP_COLUMNS) else 1
            values = [
                "(" + ", ".join(_value(c, k, g, r, slot_no) for c, k in schema.items()) + ")"
                for g in range(groups)
                for r in (1, 2, 3, 4)
            ]
            casts = ", ".join(f"CAST({c} AS {_DUCK_TYPES[k]}) AS {c}" for c, k in schema.items())
            target = Path(table_partition(str(root), "gold", table, slot))
            target.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT {casts} FROM (VALUES {', '.join(values)}) AS t({', '.join(schema)})) "
                f"TO '{target}/part-00000.parquet' (FORMAT parquet)"
            )
            gold_counts[table] = len(values)
        manifest = {
            "run_id": f"{slot.start:%Y%m%dT%H}-{slot.start:%Y%m%dT%H}0312Z-abc{slot_no}",
            "run_slot": str(slot),
            "status": "succeeded",
            "source": "demo",
            "started_at": f"{slot.start:%Y-%m-%dT%H}:03:12Z",
            "finished_at": f"{slot.start:%Y-%m-%dT%H}:04:40Z",
            "capture_time": f"{slot.start:%Y-%m-%dT%H}:03:15Z",
            "error": None,
            "counts": {"raw": 10, "silver": 9, "quarantine": 1, "live_flights": 7 + slot_no, "gold": gold_counts},
            "cleaning_rules": {"missing_id": 1},
            "extraction": {"tiles": 4, "requests": 5},
            "mapping_coverage": {"airline": 0.9},
            "timings_s": {"total": 88.0},
            "versions": {"spark": "3.5.6"},
        }
        Path(manifest_path(str(root), manifest["run_id"])).parent.mkdir(parents=True, exist_ok=True)
        Path(manifest_path(str(root), manifest["run_id"])).write_text(json.dumps(manifest) + "\n")
        manifests.append(manifest)
        silver = Path(table_partition(str(root), "silver", "flights", slot))
        silver.mkdir(parents=True)
        casts = ", ".join(
            f"CAST(NULL AS {_DUCK_TYPES.get(k, 'TIMESTAMP')}) AS {c}" for c, k in SILVER_FLIGHTS_SCHEMA.items()
        )
        con.execute(f"COPY (SELECT {casts}) TO '{silver}/part-00000.parquet' (FORMAT parquet)")
        quarantine = Path(table_partition(str(root), "quarantine", "flights", slot))
        quarantine.mkdir(parents=True)
        casts = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in QUARANTINE_SCHEMA)
        con.execute(f"COPY (SELECT {casts}) TO '{quarantine}/part-00000.parquet' (FORMAT parquet)")
        raw = Path(raw_flights_file(str(root), slot))
        raw.parent.mkdir(parents=True)
        raw.write_text(",".join(RAW_COLUMNS) + "\n")
    return Lake(str(root), SLOTS, tuple(manifests))


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The lake the analytics layer reads."""
    return _write_synthetic(tmp_path_factory.mktemp("lake"))
