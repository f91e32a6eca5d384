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


@pytest.mark.slow
@pytest.mark.skipif(not any(SAMPLES.glob("flights_*.csv")), reason="no ../shared/samples/fr24 captures here")
def test_reference_coverage_on_every_real_capture(spark: SparkSession, capsys):
    script = load_script()
    figures = script.measure(spark, SAMPLES)
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
