"""One simulated world through both sources and through failover, end to end: raw, silver, gold, manifest.

FlightRadarAPI reads the web feed's wire format from tests/servers/feed_server.py, fr24sdk the official API's from
tests/servers/fr24api_server.py; both on 127.0.0.1, nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.cli import main
from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.core.layout import RunSlot
from etl.core.log import JsonLinesFormatter
from etl.extract.simulate.world import World
from etl.extract.sources.simulated import SimulatedFeed
from tests.etl.lakes import current_rows
from tests.servers.feed_server import flightradarapi_pointed_at, serve_feed
from tests.servers.fr24api_server import serve_fr24api

pytestmark = pytest.mark.slow

TOKEN = "tok-5d2e7b-never-to-be-seen"
FLIGHTS = 4000
OFFICIAL, WEB, FAILOVER = "2026-11-22T14", "2026-11-22T16", "2026-11-22T18"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonLinesFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", *args, "--spark-master", "local[2]"])
    return code, out.getvalue()


def _manifest(root: Path, slot: str) -> dict:
    [path] = [p for p in (root / "runs").glob("*.json") if json.loads(p.read_text())["run_slot"] == slot]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    """Three runs of one world into one lake: fr24api alone, FlightRadarAPI alone, and failover from a blocked feed."""
    root = tmp_path_factory.mktemp("lake")
    world = World.generate(FLIGHTS, seed=9, capture_time=datetime.now(timezone.utc).replace(microsecond=0))
    quick = root.parent / "quick.json"  # no waiting between retries of a feed that only answers challenges
    no_wait = {"retries": 1, "backoff_base_s": 0.0, "backoff_max_s": 0.0}
    quick.write_text(json.dumps({"extract": {**no_wait, "blocked_backoff_base_s": 0.0, "blocked_backoff_max_s": 0.0}}))
    logs = _Collect()  # what other libraries log (the SDK, httpx); the job's own events are on the run's stdout
    watched = [logging.getLogger()]
    for logger in watched:
        logger.addHandler(logs)
    for name in ("fr24sdk", "httpx"):  # as a user debugging the run would: the SDK must still hide the token
        logging.getLogger(name).setLevel(logging.DEBUG)
    common = ["--data-root", str(root)]
    try:
        with (
            pytest.MonkeyPatch.context() as env,
            serve_fr24api(world.flights, token=TOKEN) as api,
            serve_feed(SimulatedFeed(world.flights)) as web,
            serve_feed(SimulatedFeed(world.flights, failure_rate=1.0), failure_statuses=(403,)) as challenged,
        ):
            for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
                env.delenv(name, raising=False)
            env.setenv("NO_PROXY", "127.0.0.1")
            env.setenv("FR24_API_TOKEN", TOKEN)
            # The official API first: it lands the day's reference data (airportsdata, no airline list), which
            # the later slots of the same day reuse, so every run joins the same references.
            official = _run([*common, "--run-slot", OFFICIAL, "--source", "fr24api", "--fr24api-url", api.base_url])
            official_usage = {"requests": len(api.requests), "flights_returned": api.flights_returned}
            with flightradarapi_pointed_at(web.base_url):
                web_run = _run([*common, "--run-slot", WEB, "--source", "flightradarapi"])
            before_failover = len(api.requests)
            with flightradarapi_pointed_at(challenged.base_url):
                sources = ["--sources", "flightradarapi,fr24api", "--fr24api-url", api.base_url]
                failover = _run([*common, "--run-slot", FAILOVER, "--config", str(quick), *sources])
            challenged_requests = len(challenged.queries)
            failover_api_requests = len(api.requests) - before_failover
    finally:
        for logger in watched:
            logger.removeHandler(logs)
        for name in ("fr24sdk", "httpx"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    return {
        "root": root,
        "world": world,
        "official": official,
        "official_usage": official_usage,
        "web": web_run,
        "failover": failover,
        "challenged_requests": challenged_requests,
        "failover_api_requests": failover_api_requests,
        # every log line: the libraries', each run's JSON events (stdout is not a terminal here), its log files
        "logs": [
            *logs.lines,
            *(line for _, out in (official, web_run, failover) for line in out.splitlines()),
            *(
                line
                for path in sorted(root.glob("logs/**/*"))
                if path.is_file()
                for line in path.read_text().splitlines()
            ),
        ],
    }


def _gold(spark, root: Path, table: str, slot: str) -> list[tuple]:
    """A gold table's rows, doubles to the millimetre: a sum of doubles depends on the order rows arrive in, and
    each source tiles (so orders) the same flights differently, e.g. 3954.8583465000743 vs 3954.858346500069 km."""
    rows = current_rows(str(root), table, RunSlot.parse(slot), list(GOLD_SCHEMAS[table]))
    return sorted(tuple(round(v, 6) if isinstance(v, float) else v for v in r.values()) for r in rows)


def test_run_source_fr24api_captures_the_whole_world_and_answers_all_eight_questions(spark, runs):
    code, out = runs["official"]
    assert code == 0, out
    manifest = _manifest(runs["root"], OFFICIAL)
    assert manifest["status"] == "succeeded" and manifest["source"] == "fr24api"
    extraction = manifest["extraction"]
    assert extraction["rows"] == FLIGHTS and extraction["failed_tiles"] == []  # every flight of the world
    assert extraction["tile_cap"] == 30_000 and extraction["split_tiles"] == 0
    # the requests and flights the run records are those the server counted
    usage = extraction["api_usage"]
    assert (usage["requests"], usage["flights_returned"]) == tuple(runs["official_usage"].values())
    # The first capture of the lake plans cold: 10,000 assumed flights fit one tile of 0.8 x 30,000 = 24,000, so
    # the whole world is one request.
    assert usage["requests"] == extraction["requests"] == extraction["tiles_planned"] == 1
    assert extraction["plan_source"] == "cold start"
    for table in GOLD_TABLES:  # every question has an answer (rank 1)
        rows = current_rows(str(runs["root"]), table, RunSlot.parse(OFFICIAL))
        assert [r for r in rows if r["rank"] == 1], table
    # Q1, counted here from the world's own records: airborne tracks with an airline code, per airline
    live = Counter(
        f["airline_icao"] for f in runs["world"].flights if f["on_ground"] == "0" and f["airline_icao"]
    ).most_common()
    top = current_rows(str(runs["root"]), "airline_most_live_flights", RunSlot.parse(OFFICIAL))
    [(airline, flights)] = [(r["airline_icao"], r["live_flights"]) for r in top if r["rank"] == 1]
    assert flights == live[0][1] and (airline, flights) in live


def test_both_sources_give_the_same_gold_tables_row_for_row(spark, runs):
    code, out = runs["web"]
    assert code == 0, out
    manifest = _manifest(runs["root"], WEB)
    assert manifest["source"] == "flightradarapi" and manifest["extraction"]["rows"] == FLIGHTS
    assert manifest["extraction"]["tile_cap"] == 1500 and manifest["extraction"]["failed_tiles"] == []
    official = _manifest(runs["root"], OFFICIAL)
    assert manifest["counts"]["live_flights"] == official["counts"]["live_flights"]
    for table in GOLD_TABLES:
        assert _gold(spark, runs["root"], table, WEB) == _gold(spark, runs["root"], table, OFFICIAL), table


def test_failover_from_a_feed_answering_only_challenges_serves_the_run_from_fr24api(spark, runs):
    code, out = runs["failover"]
    assert code == 0, out
    manifest = _manifest(runs["root"], FAILOVER)
    assert manifest["status"] == "succeeded" and manifest["source"] == "fr24api"
    sources = manifest["extraction"]["sources"]
    assert sources["order"] == ["flightradarapi", "fr24api"] and sources["served"] == "fr24api"
    blocked, served = sources["attempts"]
    # The circuit breaker: five refusals in a row and the feed is given up at once, whatever is left to ask
    # (a few requests were already in flight): at most 10 requests, not two per tile.
    assert blocked["outcome"] == "unusable" and 5 <= blocked["requests"] == runs["challenged_requests"] <= 10
    assert blocked["reason"].startswith("source refused: 5 answers in a row were blocked or challenged (last: ")
    assert blocked["reason"].endswith("; unusable for this run, nothing written")
    # warm plan from the previous slot's 4,000 flights: 4,400 with growth, far under 24,000, so one tile
    assert served["outcome"] == "served" and served["requests"] == runs["failover_api_requests"] == 1
    for table in GOLD_TABLES:
        assert _gold(spark, runs["root"], table, FAILOVER) == _gold(spark, runs["root"], table, OFFICIAL), table
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {"event": "source_failover", "served": "fr24api", "unusable": ["flightradarapi"]}.items() <= next(
        e for e in events if e.get("event") == "source_failover"
    ).items()


def test_the_token_is_in_no_manifest_no_log_and_no_output(runs):
    assert len(runs["logs"]) > 10 and any("127.0.0.1" in line for line in runs["logs"])  # the runs were logged
    for line in runs["logs"]:
        assert TOKEN not in line
    for path in (runs["root"] / "runs").glob("*.json"):
        text = path.read_text()
        assert TOKEN not in text and '"fr24api_token_env":"FR24_API_TOKEN"' in text
    for key in ("official", "web", "failover"):
        assert TOKEN not in runs[key][1]
