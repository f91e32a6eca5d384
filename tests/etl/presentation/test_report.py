"""The local dashboard: its data equals the gold tables, and headless Chromium renders it with no network at all."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from etl.core.errors import JobError
from etl.core.layout import RunSlot
from etl.presentation.report import build_panels, read_gold, write_report
from tests.etl.lakes import current_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: install Debian's `chromium` package to run the dashboard checks"
)
PANELS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6b", "bonus", "map", "trend"]


@pytest.fixture(scope="module")
def report(lake, tmp_path_factory) -> Path:
    """The dashboard of the latest successful run, written to its default place under the data root."""
    return Path(write_report(lake.root))


def payload(path: Path) -> dict:
    """The JSON data block the page draws from."""
    match = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', path.read_text(), re.S)
    assert match, "no data block"
    return json.loads(match.group(1).replace("<\\/", "</"))


def gold(root: str, table: str, slot: RunSlot) -> list[dict]:
    """A gold table's current rows straight from its Iceberg table, best rank first."""
    return sorted(current_rows(root, table, slot), key=lambda r: r["rank"])


def chromium(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run headless Chromium on a page with a throw-away profile."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def render_status(dom: str) -> dict:
    """What the page's own self-check recorded: panels drawn, errors, blocked loads, resources fetched."""
    match = re.search(r'<pre id="render-status">(.*?)</pre>', dom, re.S)
    assert match, "no render status in the DOM"
    return json.loads(match.group(1))


def console_lines(stderr: str) -> list[str]:
    """Console messages Chromium logged (errors, CSP violations, anything the page printed)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_report_goes_to_the_slot_of_the_latest_successful_run(report, lake):
    assert report == Path(lake.root, "reports", "2026-11-22_16.html")
    assert payload(report)["slot"] == "2026-11-22T16"
    assert payload(report)["run"]["run_id"] == lake.manifests[-1]["run_id"]


def test_panels_show_the_gold_rankings(report, lake):
    slot = lake.slots[-1]
    panels = {p["id"]: p for p in payload(report)["panels"]}
    assert list(panels) == PANELS
    q1 = gold(lake.root, "airline_most_live_flights", slot)[:10]
    assert [r["value"] for r in panels["q1"]["rows"]] == [r["live_flights"] for r in q1]
    assert [r["label"] for r in panels["q1"]["rows"]] == [r["airline_name"] or r["airline_icao"] for r in q1]
    longest = gold(lake.root, "longest_live_flight", slot)[0]
    assert panels["q3"]["rows"][0]["value"] == longest["distance_km"]
    assert f"{longest['distance_km']:,.0f} km" in panels["q3"]["answer"]
    q2_best = {
        r["continent"]: r["regional_flights"]
        for r in gold(lake.root, "airline_most_regional_flights_by_continent", slot)
        if r["rank"] == 1
    }
    assert sorted(r["value"] for r in panels["q2"]["rows"]) == sorted(q2_best.values())
    imbalance = gold(lake.root, "airport_flow_imbalance", slot)[0]
    assert panels["bonus"]["rows"][0]["value"] == imbalance["outgoing"] - imbalance["incoming"]


def test_map_and_trend_come_from_silver_and_the_manifests(report, lake):
    data = payload(report)
    assert len(data["flights"]) == lake.manifests[-1]["counts"]["live_flights"]
    panel = {p["id"]: p for p in data["panels"]}["trend"]
    assert [(r["run_slot"], r["live_flights"]) for r in panel["rows"]] == [
        (str(s), m["counts"]["live_flights"]) for s, m in zip(lake.slots, lake.manifests, strict=True)
    ]
    assert len(lake.slots) == 2 and panel["answer"] == "2 slots with a published run"


def test_build_panels_on_hand_made_rankings():
    rows = {
        name: []
        for name in (
            "airline_most_regional_flights_by_continent",
            "longest_live_flight",
            "average_route_distance_by_continent",
            "manufacturer_most_live_flights",
            "most_used_model_by_continent",
            "airport_flow_imbalance",
        )
    }
    rows["airline_most_live_flights"] = [
        {"rank": 1, "airline_icao": "AFR", "airline_name": "Air France", "live_flights": 30},
        {"rank": 2, "airline_icao": "XYZ", "airline_name": None, "live_flights": 12},
    ]
    rows["top_models_by_airline_country"] = [
        {"airline_country": "France", "rank": 1, "aircraft_model": "A320", "live_flights": 9},
        {"airline_country": "France", "rank": 2, "aircraft_model": "A321", "live_flights": 4},
        {"airline_country": "Spain", "rank": 1, "aircraft_model": "A320", "live_flights": 20},
    ]
    panels = {p["id"]: p for p in build_panels(rows)}
    assert panels["q1"]["answer"] == "Air France: 30"
    assert panels["q1"]["rows"] == [{"label": "Air France", "value": 30}, {"label": "XYZ", "value": 12}]
    # Spain (20 flights in its top 3) before France (13).
    assert panels["q6"]["rows"] == [["Spain", "A320 (20)", "", ""], ["France", "A320 (9)", "A321 (4)", ""]]
    assert panels["q3"]["answer"] == "no live flight answers this question in this snapshot"


def test_missing_run_is_a_clear_error(tmp_path):
    with pytest.raises(JobError, match="no published run for any slot"):
        write_report(str(tmp_path))


def test_a_slot_without_gold_is_a_clear_error(lake):
    with pytest.raises(JobError, match="no published run for slot 2026-11-21T02"):
        read_gold(lake.root, RunSlot.parse("2026-11-21T02"))


def test_page_asks_for_nothing_outside_itself(report):
    text = report.read_text()
    assert re.findall(r"""\b(?:src|href)\s*=|url\(|@import|fetch\(|XMLHttpRequest""", text) == []
    assert "Content-Security-Policy" in text


@needs_chromium
def test_dashboard_renders_in_headless_chromium(report, lake, tmp_path):
    done = chromium(["--dump-dom"], report.as_uri(), tmp_path)
    status = render_status(done.stdout)
    assert status["done"] is True
    assert (status["errors"], status["violations"], status["resources"]) == ([], [], 0)
    assert console_lines(done.stderr) == []
    drawn = {r["id"]: r["items"] for r in status["rendered"]}
    assert list(drawn) == PANELS
    assert all(count > 0 for count in drawn.values()), drawn
    assert drawn["map"] == lake.manifests[-1]["counts"]["live_flights"]  # every live flight is inside the map

    shot = Path(os.environ.get("DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium([f"--screenshot={shot}", "--window-size=1400,2400"], report.as_uri(), tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_the_self_check_catches_network_requests_and_console_errors(report, tmp_path):
    # The control case: the same page plus an outside picture and a console error must be caught.
    page = report.read_text().replace(
        '<main class="grid">',
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script><main class="grid">',
    )
    bad = tmp_path / "bad.html"
    bad.write_text(page)
    done = chromium(["--dump-dom"], bad.as_uri(), tmp_path)
    status = render_status(done.stdout)
    assert status["errors"] == ["boom"]
    assert status["violations"] == ["img-src http://127.0.0.1:9/x.png"]
    assert len(console_lines(done.stderr)) == 2
