"""Small hand-made flight records for the extraction tests."""

from __future__ import annotations

from etl.core.columns import FLIGHT_FIELDS


def flight(flight_id: str, lat: float, lon: float, *, time: int = 1_795_356_000, **fields: str) -> dict[str, str]:
    """A feed record with every FLIGHT_FIELDS key: the given position and time, the rest empty unless given."""
    record = dict.fromkeys(FLIGHT_FIELDS, "")
    record.update(id=flight_id, latitude=repr(float(lat)), longitude=repr(float(lon)), time=str(time))
    record.update(fields)
    return record
