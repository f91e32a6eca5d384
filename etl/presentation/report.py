"""The local dashboard: one self-contained HTML file with the QuickSight sheet's visuals, viewable with no network."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from etl.core.layout import RunSlot, join
from etl.core.storage import storage_for
from etl.presentation.report_assets.world import LAKES, LAND
from etl.publication.lake import SILVER
from etl.publication.manifest import DEGRADED, PUBLISHED, read_manifests
from etl.publication.tables import TableNotPublishedError, published_manifest, read_arrow, read_rows
from etl.transform.kpi_catalog import KPIS, NO_ANSWER, TITLES, Kpi, wording

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


def read_gold(data_root: str, slot: RunSlot | dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every gold table's rows for a slot (its newest published run) or a run's manifest, by group and rank."""
    manifest = slot if isinstance(slot, dict) else _published(data_root, slot)
    tables = {}
    for kpi in KPIS:
        rows = read_rows(data_root, kpi.table, manifest)
        group = kpi.group
        rows.sort(key=lambda r: ((r[group] or "") if group else "", r["rank"]))
        tables[kpi.table] = rows
    return tables


def _published(data_root: str, slot: RunSlot | None) -> dict[str, Any]:
    manifest = published_manifest(data_root, slot)
    if manifest is None:
        where = f"slot {slot}" if slot else "any slot"
        raise TableNotPublishedError(f"no published run for {where} under {join(data_root, 'runs')}: run the job first")
    return manifest


def read_live_flights(data_root: str, manifest: dict[str, Any]) -> list[list[float | int | None]]:
    """[longitude, latitude, altitude_ft] of every live flight (airborne aircraft) of the run's silver snapshot."""
    import pyarrow.compute as pc

    table = read_arrow(
        data_root, SILVER.name, manifest, ["longitude", "latitude", "altitude_ft", "is_aircraft", "on_ground"]
    )
    live = pc.and_(pc.fill_null(table["is_aircraft"], False), pc.invert(pc.fill_null(table["on_ground"], True)))
    rows = table.filter(live).select(["longitude", "latitude", "altitude_ft"]).to_pylist()
    # Two decimals (about a kilometre) is plenty for a world map and keeps the page small.
    return [[round(r["longitude"], 2), round(r["latitude"], 2), r["altitude_ft"]] for r in rows]


def _label(kpi: Kpi, row: dict[str, Any]) -> str:
    # Stripped, so that a missing name at the end of a label leaves no trailing space.
    return wording(kpi.label, row).strip()


def _panel(kpi: Kpi, answer: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    panel: dict[str, Any] = {"id": kpi.id, "title": kpi.question, "answer": answer, "kind": "bar"}
    if kpi.unit:
        panel["unit"] = kpi.unit
    panel["rows"] = [{"label": _label(kpi, r), "value": r[kpi.value]} for r in rows]
    return panel


def _top_per_group(kpi: Kpi, group: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A table: one line per group (the busiest TOP_COUNTRIES, by their shown rows' total), a cell per rank."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["rank"] <= kpi.rows_per_group:
            groups.setdefault(row[group] or "unknown", []).append(row)
    ranked = sorted(groups.items(), key=lambda kv: (-sum(r[kpi.value] for r in kv[1]), kv[0]))
    width = kpi.rows_per_group
    return {
        "id": kpi.id,
        "title": kpi.question,
        "answer": wording(kpi.headline, {"groups": len(groups), "shown": min(len(groups), TOP_COUNTRIES)}),
        "kind": "table",
        "columns": [group.replace("_", " "), *(f"#{n}" for n in range(1, width + 1))],
        "rows": [
            [name, *[_label(kpi, r) for r in shown], *[""] * (width - len(shown))]
            for name, shown in ranked[:TOP_COUNTRIES]
        ],
    }


def build_panels(gold: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One panel per KPI (title, answer, chart rows), in the order of the QuickSight sheet."""
    panels = []
    for kpi in KPIS:
        rows = gold[kpi.table]
        if kpi.group and kpi.rows_per_group > 1:
            panels.append(_top_per_group(kpi, kpi.group, rows))
        elif kpi.group:
            # Each group's answer, in read_gold's order (by group).
            best = [r for r in rows if r["rank"] == 1]
            panels.append(_panel(kpi, wording(kpi.headline, {"groups": len(best), "shown": len(best)}), best))
        else:
            top = sorted(rows, key=lambda r: r["rank"])[:TOP]
            panels.append(_panel(kpi, wording(kpi.headline, top[0]) if top else NO_ANSWER, top))
    return panels


def trend_rows(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per slot (its latest published run), oldest first: live flights, clean and quarantined rows, status."""
    latest: dict[str, dict[str, Any]] = {}
    for manifest in manifests:  # oldest first, so the last one of a slot wins
        if manifest.get("status") in PUBLISHED:
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
                "status": latest[slot].get("status"),
            }
        )
    return rows


def status_banner(run: dict[str, Any]) -> str:
    """The page's status line: a visible warning for a degraded run, a quiet line otherwise."""
    if run.get("status") == DEGRADED:
        failed = ", ".join((run.get("quality") or {}).get("failed") or [])
        text = f"DEGRADED run: published although the quality gate failed ({failed}). Read these answers with care."
        return f'<div class="banner degraded" id="run-status" role="alert">{html.escape(text)}</div>'
    return f'<div class="banner" id="run-status">run status: {html.escape(str(run.get("status")))}</div>'


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
        f"{name.replace('_', ' ')} {'n/a' if share is None else format(share, '.0%')}"
        for name, share in sorted((run.get("mapping_coverage") or {}).items())
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
{status_banner(run)}
<div class="facts">{fact_html}</div>
<div class="coverage">mapping coverage (of the live flights carrying each code): {html.escape(coverage)}</div>
<main class="grid">{panel_html}</main>
<pre id="render-status"></pre>
<script type="application/json" id="dashboard-data">{data_json}</script>
<script>{script}</script>
</body>
</html>
"""


def write_report(
    data_root: str, run_slot: RunSlot | None = None, out_path: str | None = None, as_of: str | None = None
) -> str:
    """Write the dashboard of a slot (default: the latest published run; `as_of`: that run) and return where."""
    storage = storage_for(data_root)
    # A degraded run was published: it is shown, under a banner that says so.
    manifest = published_manifest(data_root, run_slot, as_of) if as_of else _published(data_root, run_slot)
    if manifest is None:
        raise TableNotPublishedError(f"no published run {as_of} under {data_root}")
    slot = RunSlot.parse(manifest["run_slot"])
    panels = build_panels(read_gold(data_root, manifest))
    panels.append(
        {
            "id": "map",
            "title": TITLES["map"],
            "answer": f"{manifest.get('counts', {}).get('live_flights', 0):,} airborne aircraft in this snapshot",
            "kind": "map",
        }
    )
    trend = trend_rows(read_manifests(storage, data_root))
    panels.append(
        {
            "id": "trend",
            "title": TITLES["trend"],
            "answer": f"{len(trend)} slot{'' if len(trend) == 1 else 's'} with a published run",
            "kind": "trend",
            "rows": trend,
        }
    )
    payload = {
        "slot": str(slot),
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": manifest,
        "panels": panels,
        "flights": read_live_flights(data_root, manifest),
        "world": {"land": [list(map(list, r)) for r in LAND], "lakes": [list(map(list, r)) for r in LAKES]},
    }
    target = out_path or default_report_path(data_root, slot)
    storage.write_bytes(target, render_html(payload).encode("utf-8"))
    return target
