"""The source registry: every name, flag and key a source declares is one the job config, the CLI and the stack use."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone

import pytest

from etl.cli import build_parser
from etl.core.config import ConfigError, JobConfig
from etl.core.layout import RunSlot
from etl.core.source_registry import REGISTRY, SOURCE_ALIASES, SOURCES, canonical_source, find, is_remote, source_names
from etl.extract.sources import extract_settings_for, feed_for
from etl.extract.sources.flightradarapi import FlightRadarFeed
from etl.extract.sources.fr24api import Fr24ApiFeed
from etl.extract.sources.simulated import SimulatedFeed
from infra.config import JOB_SOURCES

SLOT = RunSlot.parse("2026-11-22T14")
NOW = datetime(2026, 11, 22, 14, 5, tzinfo=timezone.utc)


def test_names_aliases_and_the_deployable_ones():
    assert SOURCES == ("demo", "flightradarapi", "fr24api", "snapshot")
    assert SOURCE_ALIASES == {"live": "flightradarapi"}
    assert source_names() == ("demo", "flightradarapi", "fr24api", "snapshot", "live")
    assert JOB_SOURCES == source_names(deployable=True) == ("demo", "flightradarapi", "fr24api", "live")
    assert canonical_source("live") == "flightradarapi" and canonical_source("demo") == "demo"
    assert find("radar") is None
    assert [name for name in ("demo", "live", "flightradarapi", "fr24api", "snapshot", "radar") if is_remote(name)] == [
        "live",
        "flightradarapi",
        "fr24api",
    ]


def test_every_key_a_source_names_is_a_job_config_field_and_every_factory_loads():
    keys = {f.name for f in fields(JobConfig)}
    for spec in REGISTRY:
        assert callable(spec.load()), spec.name
        assert spec.cap_key is None or spec.cap_key in keys
        if spec.token is not None:
            assert {spec.token.env_key, spec.token.secret_key} <= keys
    assert JobConfig(data_root="d", run_slot=SLOT).fr24api_token_env == "FR24_API_TOKEN"


def test_the_command_line_offers_every_name(capsys):
    assert build_parser().parse_args(["run", "--data-root", "d", "--source", "live"]).source == "live"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--data-root", "d", "--source", "radar"])
    # argparse quotes each choice in newer Python releases.
    assert "(choose from demo, flightradarapi, fr24api, snapshot, live)" in capsys.readouterr().err.replace("'", "")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    assert "fr24api: the official Flightradar24 API (FR24_API_TOKEN)" in " ".join(capsys.readouterr().out.split())


def test_factories_build_each_tiled_sources_feed_with_its_cap(monkeypatch):
    monkeypatch.setenv("FR24_API_TOKEN", "t0ken")
    config = JobConfig(data_root="d", run_slot=SLOT, demo_flights=50, fr24api_limit=2000).validate()
    demo = feed_for("demo", config, NOW)
    assert isinstance(demo, SimulatedFeed) and len(demo) == 50
    assert isinstance(feed_for("live", config, NOW), FlightRadarFeed)
    official = feed_for("fr24api", config, NOW)
    assert isinstance(official, Fr24ApiFeed) and official.limit == 2000
    official.close()
    assert extract_settings_for("fr24api", config).tile_cap == 2000
    assert extract_settings_for("demo", config).tile_cap == 1500
    with pytest.raises(ConfigError, match="source 'snapshot' is not read through a feed"):
        feed_for("snapshot", config, NOW)
