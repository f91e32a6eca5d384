"""Reference snapshots (airports, airlines) under raw/reference/, refreshed at most once a UTC day.

Their columns are etl.core.columns' RAW_AIRPORT_COLUMNS and RAW_AIRLINE_COLUMNS; airportsdata's airports, the
offline fallback and the complement of FR24's list, come from etl.core.airports.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from typing import Any

from etl.core.airports import airportsdata_airports
from etl.core.layout import join, raw_reference_dir
from etl.core.storage import Storage

log = logging.getLogger(__name__)


def reference_path(root: str, name: str, day: str) -> str:
    """`raw/reference/<name>/tech_day=<day>/<name>.csv`."""
    return join(raw_reference_dir(root, name, day), f"{name}.csv")


def to_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    """CSV with RFC 4180 quoting, \\n line ends (as the feed captures have them), UTF-8, with a header."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buffer.getvalue().encode("utf-8")


def completed_with_airportsdata(fetch: Callable[[], list[dict[str, Any]]]) -> Callable[[], list[dict[str, Any]]]:
    """A fetcher of FR24's airports list followed by airportsdata's airports for every IATA code that list lacks.

    FR24's list names its airports as the feed does (its own codes for fields without one from IATA included), so it
    comes first and wins where both know a code; airportsdata fills what it leaves out instead of the run losing
    those routes. Each row keeps its `source`. An empty FR24 list stays empty, so the caller falls back as for a
    failed fetch and says so.
    """

    def fetch_completed() -> list[dict[str, Any]]:
        rows = fetch()
        if not rows:
            return []
        known = {r.get("iata") for r in rows}
        return [*rows, *(a for a in airportsdata_airports() if a["iata"] not in known)]

    return fetch_completed


def _existing_source(storage: Storage, path: str) -> str:
    rows = list(csv.DictReader(io.StringIO(storage.read_bytes(path).decode("utf-8"))))
    return rows[0].get("source", "") if rows else "empty"


def land_reference(
    storage: Storage,
    root: str,
    name: str,
    day: str,
    fetchers: list[tuple[str, Callable[[], list[dict[str, Any]]]]],
    columns: tuple[str, ...],
) -> tuple[str, dict[str, Any]]:
    """Reuse today's file, else write the first fetcher's rows that works (an empty last resort is allowed).

    Returns the path and stats: source (fr24, airportsdata, simulator, none, or reused:<source>), rows, errors.
    """
    path = reference_path(root, name, day)
    if storage.exists(path):
        return path, {"source": f"reused:{_existing_source(storage, path)}", "rows": None}
    errors: dict[str, str] = {}
    for source, fetch in fetchers:
        try:
            rows = fetch()
        except Exception as exc:  # any failure here only means: use the next source
            errors[source] = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("reference %s from %s failed: %s", name, source, errors[source])
            continue
        if not rows and source != "none":
            errors[source] = "no rows"
            continue
        rows = [{**r, "source": r.get("source") or source} for r in rows]
        storage.write_bytes(path, to_csv(columns, rows))
        return path, {"source": source, "rows": len(rows), **({"errors": errors} if errors else {})}
    storage.write_bytes(path, to_csv(columns, []))
    return path, {"source": "none", "rows": 0, "errors": errors}
