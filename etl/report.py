"""The local dashboard: one self-contained HTML file with the QuickSight sheet's visuals, viewable with no network."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from etl.columns import GOLD_TABLES
from etl.errors import JobError
from etl.layout import RunSlot, join
from etl.manifest import SUCCEEDED, latest_manifest, read_manifests
from etl.report_assets.world import LAKES, LAND
from etl.storage import storage_for
from etl.tables import read_arrow, read_rows

ASSETS = Path(__file__).resolve().parent / "report_assets"
TOP = 10  # rows shown per ranking
TOP_COUNTRIES = 10  # airline countries shown in the top-3-models table
MAX_TREND_SLOTS = 168  # two weeks of two-hourly runs
# The page may load nothing: every script, style and picture is inline; the browser enforces it.
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def default_report_path(data_root: str, slot: RunSlot) -> str:
    """`<data_root>/reports/<tech_day>_<tech_hour>.html`, e.g. reports/2026-11-22_14.html."""
    values = slot.partition_values
    return join(data_root, "reports", f"{values['tech_day']}_{values['tech_hour']}.html")


def read_gold(data_root: str, slot: RunSlot) -> dict[str, list[dict[str, Any]]]:
    """Every gold table's rows for a slot, ordered by group and rank."""
    tables = {}
    for name in GOLD_TABLES:
        rows = read_rows(data_root, "gold", name, slot)
        group = next((c for c in ("continent", "airline_country") if rows and c in rows[0]), None)
        rows.sort(key=lambda r: ((r[group] or "") if group else "", r["rank"]))
        tables[name] = rows
    return tables


def read_live_flights(data_root: str, slot: RunSlot) -> list[list[float | int | None]]:
    """[longitude, latitude, altitude_ft] of every live flight (airborne aircraft) of the slot's silver snapshot."""
    import pyarrow.compute as pc

    table = read_arrow(
        data_root, "silver", "flights", [slot], ["longitude", "latitude", "altitude_ft", "is_aircraft", "on_ground"]
    )
    live = pc.and_(pc.fill_null(table["is_aircraft"], False), pc.invert(pc.fill_null(table["on_ground"], True)))
    rows = table.filter(live).select(["longitude", "latitude", "altitude_ft"]).to_pylist()
    # Two decimals (about a kilometre) is plenty for a world map and keeps the page small.
    return [[round(r["longitude"], 2), round(r["latitude"], 2), r["altitude_ft"]] for r in rows]


def _name(row: dict[str, Any], name: str, code: str) -> str:
    return row.get(name) or row.get(code) or "unknown"


def _bar(rows: list[dict[str, Any]], label: Any, value: str) -> list[dict[str, Any]]:
    return [{"label": label(r), "value": r[value]} for r in rows]


def build_panels(gold: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One panel per KPI (title, answer, chart rows), in the order of the QuickSight sheet."""
    q1 = gold["airline_most_live_flights"]
    q2 = [r for r in gold["airline_most_regional_flights_by_continent"] if r["rank"] == 1]
    q3 = gold["longest_live_flight"]
    q4 = sorted(gold["average_route_distance_by_continent"], key=lambda r: r["rank"])
    q5 = gold["manufacturer_most_live_flights"]
    q6 = gold["top_models_by_airline_country"]
    q6b = [r for r in gold["most_used_model_by_continent"] if r["rank"] == 1]
    bonus = sorted(gold["airport_flow_imbalance"], key=lambda r: r["rank"])

    def first(rows: list[dict[str, Any]], text: Any) -> str:
        return text(rows[0]) if rows else "no live flight answers this question in this snapshot"

    q1_top, q3_top, q5_top = (sorted(t, key=lambda r: r["rank"])[:TOP] for t in (q1, q3, q5))
    countries: dict[str, list[dict[str, Any]]] = {}
    for row in q6:
        if row["rank"] <= 3:
            countries.setdefault(row["airline_country"] or "unknown", []).append(row)
    ranked_countries = sorted(countries.items(), key=lambda kv: (-sum(r["live_flights"] for r in kv[1]), kv[0]))
    q6_rows = [
        [country, *[f"{r['aircraft_model']} ({r['live_flights']})" for r in rows], *[""] * (3 - len(rows))]
        for country, rows in ranked_countries[:TOP_COUNTRIES]
    ]
    return [
        {
            "id": "q1",
            "title": "Q1 Airline with the most live flights",
            "answer": first(q1_top, lambda r: f"{_name(r, 'airline_name', 'airline_icao')}: {r['live_flights']:,}"),
            "kind": "bar",
            "rows": _bar(q1_top, lambda r: _name(r, "airline_name", "airline_icao"), "live_flights"),
        },
        {
            "id": "q2",
            "title": "Q2 Per continent, the airline with the most regional live flights",
            "answer": f"{len(q2)} continents",
            "kind": "bar",
            "rows": _bar(
                q2, lambda r: f"{r['continent']}: {_name(r, 'airline_name', 'airline_icao')}", "regional_flights"
            ),
        },
        {
            "id": "q3",
            "title": "Q3 Live flight with the longest route",
            "answer": first(
                q3_top,
                lambda r: (
                    f"{r['callsign'] or r['flight_id']} {r['origin_iata']} \u2192 {r['destination_iata']}: "
                    f"{r['distance_km']:,.0f} km"
                ),
            ),
            "kind": "bar",
            "unit": " km",
            "rows": _bar(
                q3_top,
                lambda r: f"{r['callsign'] or r['flight_id']} {r['origin_iata']}\u2192{r['destination_iata']}",
                "distance_km",
            ),
        },
        {
            "id": "q4",
            "title": "Q4 Average route distance of live flights, per continent of origin",
            "answer": first(q4, lambda r: f"longest on average: {r['continent']}, {r['avg_distance_km']:,.0f} km"),
            "kind": "bar",
            "unit": " km",
            "rows": _bar(q4, lambda r: f"{r['continent']} ({r['flights']:,} flights)", "avg_distance_km"),
        },
        {
            "id": "q5",
            "title": "Q5 Aircraft manufacturer with the most live flights",
            "answer": first(q5_top, lambda r: f"{r['manufacturer']}: {r['live_flights']:,}"),
            "kind": "bar",
            "rows": _bar(q5_top, lambda r: r["manufacturer"] or "unknown", "live_flights"),
        },
        {
            "id": "q6",
            "title": "Q6 Per airline country, the top 3 aircraft models",
            "answer": f"{len(countries)} airline countries; the {min(len(countries), TOP_COUNTRIES)} busiest shown",
            "kind": "table",
            "columns": ["airline country", "#1", "#2", "#3"],
            "rows": q6_rows,
        },
        {
            "id": "q6b",
            "title": "Q6' Per continent of origin, the most used aircraft model",
            "answer": f"{len(q6b)} continents",
            "kind": "bar",
            "rows": _bar(q6b, lambda r: f"{r['continent']}: {r['aircraft_model']}", "live_flights"),
        },
        {
            "id": "bonus",
            "title": "Bonus: airports with the largest outgoing - incoming difference",
            "answer": first(
                bonus, lambda r: f"{r['airport_iata']} ({r['airport_name'] or 'unknown'}): {r['difference']:+,}"
            ),
            "kind": "bar",
            "rows": _bar(bonus[:TOP], lambda r: f"{r['airport_iata']} {r['airport_name'] or ''}".strip(), "difference"),
        },
    ]


def trend_rows(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per slot (its latest successful run), oldest first: live flights, clean and quarantined rows."""
    latest: dict[str, dict[str, Any]] = {}
    for manifest in manifests:  # oldest first, so the last one of a slot wins
        if manifest.get("status") == SUCCEEDED:
            latest[manifest["run_slot"]] = manifest
    rows = []
    for slot in sorted(latest)[-MAX_TREND_SLOTS:]:
        counts = latest[slot].get("counts") or {}
        rows.append(
            {
                "run_slot": slot,
                "live_flights": counts.get("live_flights"),
                "silver": counts.get("silver"),
                "quarantine": counts.get("quarantine"),
            }
        )
    return rows


def render_html(payload: dict[str, Any]) -> str:
    """The page: inline style, data, and the script that draws every panel and records that it did."""
    run = payload["run"]
    counts = run.get("counts") or {}
    facts = [
        ("live flights", counts.get("live_flights")),
        ("clean rows", counts.get("silver")),
        ("quarantined", counts.get("quarantine")),
        ("raw rows", counts.get("raw")),
    ]
    coverage = " \u00b7 ".join(
        f"{name.replace('_', ' ')} {share:.0%}" for name, share in sorted((run.get("mapping_coverage") or {}).items())
    )
    fact_html = "".join(
        f'<div class="fact"><b>{html.escape(f"{v:,}" if isinstance(v, int) else str(v if v is not None else "-"))}'
        f"</b>{html.escape(k)}</div>"
        for k, v in facts
    )
    panel_html = "".join(
        f'<section class="panel{" wide" if p["kind"] in ("map", "trend") else ""}" id="panel-{p["id"]}">'
        f'<h2>{html.escape(p["title"])}</h2><p class="answer"><strong>{html.escape(p["answer"])}</strong></p>'
        f'<div class="chart" id="chart-{p["id"]}"></div></section>'
        for p in payload["panels"]
    )
    # "</" inside the JSON would end the script element early.
    data_json = json.dumps(payload, separators=(",", ":"), default=str).replace("</", "<\\/")
    style = (ASSETS / "dashboard.css").read_text(encoding="utf-8")
    script = (ASSETS / "dashboard.js").read_text(encoding="utf-8")
    title = f"Flight KPIs, slot {payload['slot']} UTC"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<script>
// Records what the page did, for anyone (or any test) reading #render-status: panels drawn, errors, blocked loads.
(function () {{
  var status = {{ rendered: [], errors: [], violations: [], resources: 0, done: false }};
  window.__dashboardStatus = status;
  window.addEventListener("error", function (e) {{ status.errors.push(String(e.message)); }});
  document.addEventListener("securitypolicyviolation", function (e) {{
    status.violations.push(e.violatedDirective + " " + e.blockedURI);
  }});
  var consoleError = console.error;
  console.error = function () {{
    status.errors.push(Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  }};
  window.__dashboardFinish = function () {{
    status.resources = performance.getEntriesByType("resource").length;
    status.done = true;
    document.getElementById("render-status").textContent = JSON.stringify(status);
  }};
  window.addEventListener("load", function () {{ window.__dashboardFinish(); }});
}})();
</script>
<style>{style}</style>
</head>
<body>
<header><h1>{html.escape(title)}</h1>
<div class="sub">run {html.escape(str(run.get("run_id")))}
&middot; captured {html.escape(str(run.get("capture_time")))} &middot; source {html.escape(str(run.get("source")))}
&middot; report written {html.escape(payload["generated_at"])}</div>
</header>
<div class="facts">{fact_html}</div>
<div class="coverage">mapping coverage (share of live flights resolved): {html.escape(coverage)}</div>
<main class="grid">{panel_html}</main>
<pre id="render-status"></pre>
<script type="application/json" id="dashboard-data">{data_json}</script>
<script>{script}</script>
</body>
</html>
"""


def write_report(data_root: str, run_slot: RunSlot | None = None, out_path: str | None = None) -> str:
    """Write the dashboard of a slot (default: the latest successful run) and return where it went."""
    storage = storage_for(data_root)
    manifest = latest_manifest(storage, data_root, run_slot)
    if manifest is None:
        where = f"slot {run_slot}" if run_slot else "any slot"
        raise JobError(f"no successful run for {where} under {join(data_root, 'runs')}: run the job first")
    slot = RunSlot.parse(manifest["run_slot"])
    panels = build_panels(read_gold(data_root, slot))
    panels.append(
        {
            "id": "map",
            "title": "Live flights",
            "answer": f"{manifest.get('counts', {}).get('live_flights', 0):,} airborne aircraft in this snapshot",
            "kind": "map",
        }
    )
    trend = trend_rows(read_manifests(storage, data_root))
    panels.append(
        {
            "id": "trend",
            "title": "Live flights over runs",
            "answer": f"{len(trend)} slots with a successful run",
            "kind": "trend",
            "rows": trend,
        }
    )
    payload = {
        "slot": str(slot),
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": manifest,
        "panels": panels,
        "flights": read_live_flights(data_root, slot),
        "world": {"land": [list(map(list, r)) for r in LAND], "lakes": [list(map(list, r)) for r in LAKES]},
    }
    target = out_path or default_report_path(data_root, slot)
    storage.write_bytes(target, render_html(payload).encode("utf-8"))
    return target
