"""Sources by name: config checks, the token's two homes, each source's cap, and failover in order."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.cli import build_parser, job_config
from etl.core.config import ConfigError, ExtractSettings, JobConfig
from etl.core.errors import SourceHealthError, SourceUnavailableError
from etl.core.layout import RunSlot
from etl.core.storage import LocalStorage
from etl.extract import extract_to_raw
from etl.extract.sources import extract_settings_for
from etl.extract.sources.fr24api import fr24api_token
from etl.extract.sources.simulated import SimulatedFeed
from etl.publication.metrics import source_metric_data
from tests.etl.extract.helpers import flight
from tests.paths import REPO

NOW = datetime(2026, 11, 22, 14, 5, 0, tzinfo=timezone.utc)
T_NOW = int(NOW.timestamp())
SLOT = RunSlot.parse("2026-11-22T14")
# The 30-degree grid (6 x 12 = 72 tiles) as the cold start, so tile counts are known by hand; no waiting.
QUICK = ExtractSettings(
    backoff_base_s=0.0, backoff_max_s=0.0, blocked_backoff_base_s=0.0, blocked_backoff_max_s=0.0, retries=1,
    cold_start="grid", max_requests_per_s=0,
)  # fmt: skip
TOKEN = "tok-3f9a1c-never-to-be-seen"


@pytest.fixture
def no_token(monkeypatch):
    monkeypatch.delenv("FR24_API_TOKEN", raising=False)


def _values(**changes):
    return {"data_root": "lake", "run_slot": "2026-11-22T14", **changes}


def test_fr24api_without_its_token_is_a_config_error_naming_the_variable(no_token):
    with pytest.raises(ConfigError, match="source 'fr24api' needs an API token: set the FR24_API_TOKEN environment"):
        JobConfig.from_dict(_values(source="fr24api"))
    with pytest.raises(ConfigError, match="set the MY_FR24_TOKEN environment variable"):
        JobConfig.from_dict(_values(sources=["flightradarapi", "fr24api"], fr24api_token_env="MY_FR24_TOKEN"))


def test_fr24api_with_a_token_in_the_environment_or_a_secret_is_accepted(no_token, monkeypatch):
    on_aws = JobConfig.from_dict(_values(source="fr24api", fr24api_token_secret="flight-kpis/fr24api-token"))
    assert on_aws.source_order() == ("fr24api",)
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    local = JobConfig.from_dict(_values(sources=["live", "fr24api"]))
    assert local.source == "live" and local.source_order() == ("flightradarapi", "fr24api")
    assert TOKEN not in json.dumps(local.to_dict())
    assert json.loads(json.dumps(local.to_dict()))["sources"] == local.to_dict()["sources"] == ["live", "fr24api"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (_values(source="radar"), "source 'radar' is not one of demo, flightradarapi, fr24api, snapshot, live"),
        (_values(sources=["demo", "radar"]), "source 'radar' is not one of"),
        (_values(sources=["live", "flightradarapi"]), r"sources \['live', 'flightradarapi'\] name a source twice"),
        (_values(source="demo", sources=["flightradarapi", "demo"]), "source 'demo' is not the first of sources"),
        (_values(sources=["demo", "snapshot"]), "source 'snapshot' needs snapshot_path"),
        (_values(sources="demo", fr24api_limit=30_001), "fr24api_limit must be between 1 and 30,000"),
        (_values(fr24api_url="127.0.0.1:8080"), "fr24api_url '127.0.0.1:8080' is not an http"),
        (_values(sources=[1]), "sources must be a list of source names"),
    ],
)
def test_bad_source_settings_are_refused_naming_the_value(values, message):
    with pytest.raises(ConfigError, match=message):
        JobConfig.from_dict(values)


def test_command_line_source_and_sources(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    parser = build_parser()
    base = ["run", "--data-root", str(tmp_path), "--run-slot", "2026-11-22T14"]
    one = job_config(parser.parse_args([*base, "--source", "fr24api", "--fr24api-url", "http://127.0.0.1:8080"]))
    assert (one.source, one.sources, one.fr24api_url) == ("fr24api", (), "http://127.0.0.1:8080")
    both = job_config(parser.parse_args([*base, "--sources", "flightradarapi,fr24api"]))
    assert (both.source, both.sources) == ("flightradarapi", ("flightradarapi", "fr24api"))
    assert job_config(parser.parse_args([*base, "--live"])).source_order() == ("flightradarapi",)
    # a source on the command line replaces a config file's list
    config_file = tmp_path / "job.json"
    config_file.write_text(json.dumps({"sources": ["flightradarapi", "fr24api"]}))
    replaced = job_config(parser.parse_args([*base, "--config", str(config_file), "--source", "demo"]))
    assert replaced.source_order() == ("demo",)
    kept = job_config(parser.parse_args([*base, "--config", str(config_file)]))
    assert kept.source_order() == ("flightradarapi", "fr24api")


def test_each_source_brings_its_own_cap_to_the_tiler(monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    config = JobConfig.from_dict(_values(sources=["flightradarapi", "fr24api"], fr24api_limit=25_000))
    assert extract_settings_for("flightradarapi", config).tile_cap == 1500
    fr24api = extract_settings_for("fr24api", config)
    assert fr24api.tile_cap == 25_000 and fr24api.concurrency == config.extract.concurrency


def _aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


def test_token_from_secrets_manager_and_a_clear_error_while_it_is_empty(monkeypatch, no_token):
    import boto3
    from moto import mock_aws

    _aws(monkeypatch)
    config = JobConfig.from_dict(_values(source="fr24api", fr24api_token_secret="flight-kpis/fr24api-token"))
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name="flight-kpis/fr24api-token")  # empty, as the stack creates it
        with pytest.raises(SourceUnavailableError) as empty:
            fr24api_token(config)
        assert str(empty.value) == (
            "source fr24api: the token secret flight-kpis/fr24api-token does not exist or has no value yet: "
            "aws secretsmanager put-secret-value --secret-id flight-kpis/fr24api-token --secret-string <token>"
        )
        client.put_secret_value(SecretId="flight-kpis/fr24api-token", SecretString=f"{TOKEN}\n")
        assert fr24api_token(config) == TOKEN
        assert fr24api_token(config).where == "the secret flight-kpis/fr24api-token"  # named when refused


def test_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", f"  {TOKEN} ")
    assert fr24api_token(JobConfig.from_dict(_values(source="fr24api"))) == TOKEN
    assert fr24api_token(JobConfig.from_dict(_values(source="fr24api"))).where == (
        "the environment variable FR24_API_TOKEN"
    )


def _config(root: Path, **changes) -> JobConfig:
    return JobConfig(data_root=str(root), run_slot=SLOT, extract=QUICK, **changes).validate()


def test_failover_serves_the_run_from_the_next_usable_source(tmp_path, monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    blocked = SimulatedFeed([flight("w1", 1, 1, time=T_NOW)], failure_rate=1.0)
    official = SimulatedFeed([flight("a1", 51.5, -0.1, time=T_NOW - 10), flight("a2", 40.6, -73.8, time=T_NOW)])
    config = _config(tmp_path, sources=("flightradarapi", "fr24api"))
    landing = extract_to_raw(config, LocalStorage(), feed={"flightradarapi": blocked, "fr24api": official}, now=NOW)
    stats = landing.stats.to_dict()
    assert stats["source"] == "fr24api" and landing.rows == 2
    assert stats["sources"]["order"] == ["flightradarapi", "fr24api"] and stats["sources"]["served"] == "fr24api"
    first, second = stats["sources"]["attempts"]
    assert first["outcome"] == "unusable" and first["error"] == "SourceHealthError"
    assert first["reason"].startswith("source health: 72 of 72 tiles failed (100% > max_failed_tile_share 50%)")
    assert first["tiles"] == 72 and first["requests"] == 144  # one retry each
    assert second["outcome"] == "served" and second["tiles"] == 72 and second["flights_received"] == 2
    assert stats["tile_cap"] == 30_000  # the official API's own cap served the run
    # reference data: airportsdata's airports and no airline list, since the official API has neither in bulk
    assert stats["airports"]["source"] == "airportsdata" and stats["airlines"]["source"] == "none"
    assert source_metric_data(stats) == [
        {"MetricName": "RunsBySource", "Dimensions": [{"Name": "Source", "Value": "fr24api"}], "Value": 1.0,
         "Unit": "Count"},
        {"MetricName": "SourceFailovers", "Value": 1.0, "Unit": "Count"},
    ]  # fmt: skip


def test_the_first_usable_source_serves_and_the_next_is_never_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    web = SimulatedFeed([flight("w1", 1, 1, time=T_NOW)])
    official = SimulatedFeed([flight("a1", 2, 2, time=T_NOW)])
    config = _config(tmp_path, sources=("flightradarapi", "fr24api"))
    stats = extract_to_raw(
        config, LocalStorage(), feed={"flightradarapi": web, "fr24api": official}, now=NOW
    ).stats.to_dict()
    assert stats["source"] == "flightradarapi" and official.requests == 0
    assert [a["outcome"] for a in stats["sources"]["attempts"]] == ["served"]


def test_when_every_source_is_unusable_the_error_names_each_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    config = _config(tmp_path, sources=("flightradarapi", "fr24api"))
    empty, stale = SimulatedFeed([]), SimulatedFeed([flight("old", 1, 1, time=T_NOW - 7200)])
    with pytest.raises(SourceHealthError) as failed:
        extract_to_raw(config, LocalStorage(), feed={"flightradarapi": empty, "fr24api": stale}, now=NOW)
    message = str(failed.value)
    assert message.startswith("no source of ['flightradarapi', 'fr24api'] was usable (flightradarapi: source health: ")
    assert "the flightradarapi source returned no flights (72 tile(s) requested, 0 failed)" in message
    assert "fr24api: source health: 100% of positions are older than" not in message  # one position: not stale
    assert message.endswith(
        "fr24api: source health: the newest live position is 7200s old (> stale_after_s 1800s): the feed is stale); "
        "nothing written"
    )
    assert not (tmp_path / "raw").exists()


def test_an_empty_token_secret_hands_over_to_the_next_source(tmp_path, monkeypatch):
    import boto3
    from moto import mock_aws

    _aws(monkeypatch)
    config = _config(tmp_path, sources=("fr24api", "flightradarapi"), fr24api_token_secret="flight-kpis/fr24api-token")
    with mock_aws():
        boto3.client("secretsmanager", region_name="eu-west-1").create_secret(Name="flight-kpis/fr24api-token")
        web = SimulatedFeed([flight("w1", 1, 1, time=T_NOW)])
        stats = extract_to_raw(config, LocalStorage(), feed={"flightradarapi": web}, now=NOW).stats.to_dict()
    first = stats["sources"]["attempts"][0]
    assert stats["source"] == "flightradarapi"
    assert (first["source"], first["error"]) == ("fr24api", "SourceUnavailableError")
    assert "put-secret-value --secret-id flight-kpis/fr24api-token" in first["reason"]


def test_a_successful_run_names_the_source_that_served_it_in_its_metrics():
    from etl.publication.metrics import run_metrics

    extraction = {
        "source": "fr24api",
        "sources": {"attempts": [{"source": "flightradarapi", "outcome": "unusable"}, {"outcome": "served"}]},
    }
    data = run_metrics({"status": "succeeded", "extraction": extraction})
    names = {
        (d["MetricName"], tuple((x["Name"], x["Value"]) for x in d.get("Dimensions", []))): d["Value"] for d in data
    }
    assert names[("RunsBySource", (("Source", "fr24api"),))] == 1.0
    assert names[("SourceFailovers", ())] == 1.0
    assert names[("SuccessfulRuns", ())] == 1.0
    failed = run_metrics({"status": "failed", "extraction": extraction})
    assert not any(d["MetricName"] in ("RunsBySource", "SourceFailovers") for d in failed)


def test_the_official_apis_cap_lets_the_cold_plan_ask_for_the_world_in_one_request(tmp_path, monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    settings = ExtractSettings(max_requests_per_s=0)  # the default cold start: 10,000 flights assumed
    feed = SimulatedFeed([flight("a1", 51.5, -0.1, time=T_NOW), flight("a2", -33.9, 151.2, time=T_NOW)], cap=30_000)
    config = JobConfig(data_root=str(tmp_path), run_slot=SLOT, source="fr24api", extract=settings).validate()
    stats = extract_to_raw(config, LocalStorage(), feed=feed, now=NOW).stats.to_dict()
    # 10,000 assumed flights fit one tile of 0.8 x 30,000 = 24,000: the whole world, one request
    assert (stats["tiles_planned"], stats["requests"], feed.requests) == (1, 1, 1)
    assert stats["plan_target_per_tile"] == 24_000 and stats["rows"] == 2
    one = SimulatedFeed([flight("w1", 1, 1, time=T_NOW)])
    web = extract_to_raw(replace(config, source="flightradarapi").validate(), LocalStorage(), feed=one, now=NOW)
    assert web.stats.plan_target_per_tile == 1200  # 0.8 x 1,500: the web feed's cap plans more tiles


def _etl_imports(path: Path) -> set[str]:
    """Every etl module a source file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "etl" or m.startswith("etl.")}


def test_the_extractor_imports_no_source_module_by_itself_and_nothing_of_the_simulator():
    extract = REPO / "etl" / "extract"
    imports = {path.name: _etl_imports(path) for path in sorted(extract.glob("*.py"))}

    simulated = ("etl.extract.simulate", "etl.extract.sources.simulated")
    simulator = {name: sorted(m for m in found if m.startswith(simulated)) for name, found in imports.items()}
    assert {name: found for name, found in simulator.items() if found} == {}
    # Landing asks etl.extract.sources for a feed or a capture by name; no other module of the extractor reaches a
    # source.
    reaching = {
        name: sorted(m for m in found if m.startswith("etl.extract.sources")) for name, found in imports.items()
    }
    assert {name: found for name, found in reaching.items() if found} == {"landing.py": ["etl.extract.sources"]}


CHALLENGE_PAGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
BLOCKING = {
    "cloudflare_403": (403, b"<html>blocked</html>", {"Content-Type": "text/html", "cf-mitigated": "challenge"}),
    "challenge_page": (200, CHALLENGE_PAGE, {"Content-Type": "text/html"}),
    "rate_limited": (429, b"<html>slow down</html>", {"Content-Type": "text/html"}),
}


@pytest.mark.parametrize("answer", sorted(BLOCKING))
def test_a_blocked_web_feed_trips_the_breaker_and_fails_over_within_ten_requests(
    tmp_path, monkeypatch, local_only, answer
):
    from etl.extract.sources.flightradarapi import FlightRadarFeed
    from tests.servers.feed_server import FEED_PATH, serve_feed

    monkeypatch.setenv("FR24_API_TOKEN", TOKEN)
    official = SimulatedFeed([flight("a1", 51.5, -0.1, time=T_NOW)])
    # The defaults but the waiting: 4 requests at once, 4 retries each, 5 refusals in a row trip the breaker.
    settings = replace(QUICK, retries=4, concurrency=4)
    config = JobConfig(data_root=str(tmp_path), run_slot=SLOT, extract=settings, sources=("flightradarapi", "fr24api"))
    with serve_feed(SimulatedFeed([]), fault=lambda bounds: BLOCKING[answer]) as server:
        web = FlightRadarFeed(timeout_s=5, feed_url=server.base_url + FEED_PATH)
        feeds = {"flightradarapi": web, "fr24api": official}
        landing = extract_to_raw(config.validate(), LocalStorage(), feed=feeds, now=NOW)
        requests = len(server.queries)

    first, second = landing.stats.to_dict()["sources"]["attempts"]
    assert first["outcome"] == "unusable" and first["error"] == "SourceRefusedError"
    refused = re.fullmatch(
        r"source refused: (\d+) answers in a row were blocked or challenged \(last: BlockedFeedError: .+\); "
        r"unusable for this run, nothing written",
        first["reason"],
    )
    assert refused and 5 <= int(refused[1]) <= 8  # 5 to trip it, and at most the 3 other requests under way
    assert 5 <= requests <= 10 and first["requests"] == requests  # 72 tiles planned, at most 10 asked
    assert second["outcome"] == "served" and landing.rows == 1


def test_a_single_refused_source_leaves_its_figures_for_the_failed_run_s_manifest(tmp_path, local_only):
    from etl.core.errors import SourceRefusedError
    from etl.extract.failover import failed_extraction
    from etl.extract.sources.flightradarapi import FlightRadarFeed
    from tests.servers.feed_server import FEED_PATH, serve_feed

    config = JobConfig(data_root=str(tmp_path), run_slot=SLOT, extract=replace(QUICK, concurrency=1))
    with serve_feed(SimulatedFeed([]), fault=lambda bounds: BLOCKING["cloudflare_403"]) as server:
        web = FlightRadarFeed(timeout_s=5, feed_url=server.base_url + FEED_PATH)
        with pytest.raises(SourceRefusedError) as raised:
            extract_to_raw(
                replace(config, source="flightradarapi").validate(), LocalStorage(), feed={"flightradarapi": web}
            )
    figures = failed_extraction(raised.value)
    # One request at a time, two attempts a tile: tiles 1 and 2 twice, tile 3 once, then the breaker trips.
    assert figures["requests"] == 5 == len(server.queries)
    assert figures["tiles"] == 3 and figures["tiles_not_requested"] == 69 and figures["failed_tile_share"] == 1.0
    (attempt,) = figures["sources"]["attempts"]
    assert figures["sources"]["served"] is None and attempt["requests"] == 5 and attempt["source"] == "flightradarapi"
    assert failed_extraction(ValueError("before any source")) == {}
    assert not (tmp_path / "raw").exists()
