"""The coverage script on the real FR24 captures of ../shared/samples/fr24 (skipped when they are absent)."""

from __future__ import annotations

import importlib.util

import pytest
from pyspark.sql import SparkSession

from tests.paths import REPO, SAMPLES


def load_script():
    spec = importlib.util.spec_from_file_location("reference_coverage", REPO / "scripts" / "reference_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NO_SAMPLES = not any(SAMPLES.glob("flights_*.csv"))


@pytest.fixture(scope="module")
def figures(spark: SparkSession) -> dict:
    """Every capture as it is ("full") and without its address column ("bare"), measured in one pass."""
    script = load_script()
    return script.measure_variants(spark, SAMPLES, {"full": (), "bare": (script.ADDRESS,)})


@pytest.mark.slow
@pytest.mark.skipif(NO_SAMPLES, reason="no ../shared/samples/fr24 captures here")
def test_reference_coverage_on_every_real_capture(figures, capsys):
    script = load_script()
    figures = figures["full"]
    # The 13 captures with airborne aircraft (the two 10-row ones hold gliders and balloons only).
    assert len(figures) == 13
    for capture, after in figures.items():
        resolved, present = after["airline_country"]
        assert present > 900 and resolved / present >= 0.99, (capture, resolved, present)
        resolved, present = after["aircraft"]
        assert present > 900 and resolved / present >= 0.995, (capture, resolved, present)
        # Offline the airports are airportsdata's: what it misses are mostly FR24's own codes for airfields with
        # no IATA code (Q..), which only FR24's list knows (README, "Reference data").
        for end in ("origin", "destination"):
            resolved, present = after[end]
            assert present > 900 and resolved / present >= 0.984, (capture, end, resolved, present)
    print(script.table(figures))
    table = capsys.readouterr().out
    assert "| 20250720_151519 | 90.2% (888/985) | " in table  # the figure printed before, kept beside the new one


@pytest.mark.slow
@pytest.mark.skipif(NO_SAMPLES, reason="no ../shared/samples/fr24 captures here")
def test_captures_without_addresses_stay_within_one_point(figures):
    script = load_script()
    full_figures, bare = figures["full"], figures["bare"]
    assert set(bare) == set(full_figures)
    assert script.address_drops(full_figures, bare) == []
    for capture, figures in bare.items():
        resolved, present = figures["airline_country"]
        assert present == full_figures[capture]["airline_country"][1] and resolved / present >= 0.98, capture


def test_address_drops_names_each_mapping_that_loses_more_than_a_point():
    script = load_script()
    full = {"flights_1.csv": {"airline_country": (1000, 1000), "aircraft": (990, 1000), "origin": (5, 5)}}
    full["flights_1.csv"]["destination"] = (0, 0)
    bare = {"flights_1.csv": {"airline_country": (989, 1000), "aircraft": (980, 1000), "origin": (0, 0)}}
    bare["flights_1.csv"]["destination"] = (0, 0)
    assert script.address_drops(full, bare) == [
        "flights_1.csv airline_country 100.00% with icao_24bit, 98.90% without",
        "flights_1.csv origin 100.00% with icao_24bit, n/a without",
    ]
    assert "| 1 | 100.0% (1000/1000) | 98.9% (989/1000) |" in script.address_table(full, bare)
