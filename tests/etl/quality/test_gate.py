"""The quality gate's pure evaluator on hand-made figures, and its settings as the job config reads them."""

from __future__ import annotations

import pytest

from etl.core.config import DEFAULT_COVERAGE_FLOORS, ConfigError, JobConfig, QualitySettings
from etl.quality.gate import (
    Check,
    QualityInputs,
    QualityReport,
    VolumeHistory,
    check_volume,
    evaluate,
    with_volume,
)

ALL_MAPPINGS = list(DEFAULT_COVERAGE_FLOORS)


def _inputs(**changes) -> QualityInputs:
    values = {
        "raw_rows": 1000,
        "silver_rows": 990,
        "quarantine_rows": 10,
        "live_flights": 800,
        "mapping_coverage": dict.fromkeys(ALL_MAPPINGS, 0.99),
        "coverage_denominators": dict.fromkeys(ALL_MAPPINGS, 700),
        "missing_columns": [],
    }
    values.update(changes)
    return QualityInputs(**values)


def test_a_healthy_slot_passes_every_check_in_a_fixed_order() -> None:
    report = evaluate(_inputs(), QualitySettings())
    assert report.passed
    assert report.failed_names == []
    names = [c.name for c in report.checks]
    assert names[:3] == ["silver_rows", "live_flights", "quarantine_share"]
    assert names[3:12] == [f"coverage:{m}" for m in ALL_MAPPINGS]
    assert names[12:] == [f"inputs:{q}" for q in ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q6'", "Bonus")]
    quarantine = report.checks[2]
    assert (quarantine.value, quarantine.threshold, quarantine.passed) == (0.01, 0.05, True)
    assert report.one_line() == "quality gate passed (20 checks)"


def test_every_row_unusable_fails_silver_live_and_quarantine_share() -> None:
    inputs = _inputs(
        silver_rows=0,
        quarantine_rows=1000,
        live_flights=0,
        mapping_coverage=dict.fromkeys(ALL_MAPPINGS, 0.0),
        coverage_denominators=dict.fromkeys(ALL_MAPPINGS, 0),
    )
    report = evaluate(inputs, QualitySettings())
    assert not report.passed
    assert report.failed_names[:3] == ["silver_rows", "live_flights", "quarantine_share"]
    assert report.checks[0] == Check("silver_rows", 0.0, 1.0, False, "0 usable rows of 1000 (min_silver_rows 1)")
    assert report.checks[2].value == 1.0
    # No live flight carries any code: nothing to resolve, the coverage checks pass (the KPIs are rightly empty).
    assert report.checks[3] == Check(
        "coverage:origin_airport",
        None,
        0.9,
        True,
        "no live flight carries the code origin_airport maps: nothing to resolve",
    )
    assert report.failed_names == ["silver_rows", "live_flights", "quarantine_share"]
    assert report.one_line().startswith(
        "quality gate failed: silver_rows (0 usable rows of 1000 (min_silver_rows 1)); "
        "live_flights (0 live flights (min_live_flights 1)); quarantine_share (1000 of 1000 rows quarantined "
        "(100.0% > max_quarantine_share 5.0%))"
    )


def test_a_coverage_below_its_floor_fails_only_that_check() -> None:
    coverage = dict.fromkeys(ALL_MAPPINGS, 0.99)
    coverage["aircraft_model"] = 0.5
    report = evaluate(_inputs(mapping_coverage=coverage), QualitySettings())
    assert report.failed_names == ["coverage:aircraft_model"]
    check = next(c for c in report.checks if c.name == "coverage:aircraft_model")
    assert (check.value, check.threshold) == (0.5, 0.9)
    assert check.detail == "50.0% of 700 live flights carrying its code resolved (< floor 90%)"


def test_an_absent_column_is_named_in_each_kpi_that_needs_it() -> None:
    report = evaluate(_inputs(missing_columns=["origin_airport_iata", "departure_time"]), QualitySettings())
    assert report.failed_names == ["inputs:Q2", "inputs:Q3", "inputs:Q4", "inputs:Q6'", "inputs:Bonus"]
    q2 = next(c for c in report.checks if c.name == "inputs:Q2")
    assert (q2.value, q2.threshold, q2.passed) == (1.0, 0.0, False)
    assert q2.detail == "Q2 needs origin_airport_iata: absent from the capture"
    assert "inputs:Q2 (Q2 needs origin_airport_iata: absent from the capture)" in report.one_line()


def test_floors_and_ceilings_come_from_the_settings() -> None:
    settings = QualitySettings(max_quarantine_share=0.2, min_live_flights=900, coverage_floors={"aircraft_model": 0})
    coverage = dict.fromkeys(ALL_MAPPINGS, 0.99)
    coverage["aircraft_model"] = 0.1
    report = evaluate(_inputs(quarantine_rows=150, mapping_coverage=coverage), settings)
    assert report.failed_names == ["live_flights"]
    assert next(c for c in report.checks if c.name == "quarantine_share").value == 0.15


def test_report_round_trips_through_the_manifest_section() -> None:
    report = evaluate(_inputs(silver_rows=0), QualitySettings())
    section = report.to_dict()
    assert section["passed"] is False
    assert section["failed"] == ["silver_rows"]
    assert section["checks"][0] == {
        "name": "silver_rows",
        "value": 0.0,
        "threshold": 1.0,
        "passed": False,
        "detail": "0 usable rows of 1000 (min_silver_rows 1)",
    }
    assert QualityReport.from_dict(section) == report
    # Names are padded to the longest, coverage:aircraft_manufacturer (30 characters).
    assert (
        report.lines()[0] == "  FAIL " + "silver_rows".ljust(30) + "  0 vs 1  0 usable rows of 1000 (min_silver_rows 1)"
    )


def test_quality_section_of_the_job_config() -> None:
    config = JobConfig.from_dict(
        {
            "data_root": "d",
            "run_slot": "2026-11-22T14",
            "quality": {"max_quarantine_share": 0.1, "coverage_floors": {"airline_name": 0.3}, "allow_degraded": True},
        }
    )
    assert config.quality.max_quarantine_share == 0.1
    assert config.quality.allow_degraded is True
    assert config.quality.floors()["airline_name"] == 0.3
    assert config.quality.floors()["origin_airport"] == 0.9  # the default stays
    assert config.to_dict()["quality"]["coverage_floors"] == {"airline_name": 0.3}


@pytest.mark.parametrize(
    ("quality", "message"),
    [
        ({"max_quarantine": 0.1}, "unknown quality setting.*max_quarantine"),
        ({"max_quarantine_share": 1.5}, "quality: max_quarantine_share must be in"),
        ({"coverage_floors": {"airports": 0.5}}, "quality: unknown coverage floor.*airports"),
        ({"coverage_floors": {"airline_name": -0.1}}, "coverage floor airline_name must be in"),
        ({"min_live_flights": -1}, "min_live_flights must be an integer"),
        ({"allow_degraded": "yes"}, "allow_degraded must be true or false"),
    ],
)
def test_bad_quality_settings_are_refused_naming_the_value(quality: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        JobConfig.from_dict({"data_root": "d", "run_slot": "2026-11-22T14", "quality": quality})


def test_alerts_topic_is_an_arn_or_a_name() -> None:
    base = {"data_root": "d", "run_slot": "2026-11-22T14"}
    arn = "arn:aws:sns:eu-west-1:123456789012:flight-kpis-alarms"
    assert JobConfig.from_dict({**base, "alerts_topic": arn}).alerts_topic == arn
    assert JobConfig.from_dict({**base, "alerts_topic": "flight-kpis-alarms"}).alerts_topic == "flight-kpis-alarms"
    with pytest.raises(ConfigError, match="alerts_topic 'not a topic'"):
        JobConfig.from_dict({**base, "alerts_topic": "not a topic"})


VOLUME = QualitySettings()  # min_share_of_published 0.5, min_share_of_median 0.25, volume_min_history 3


@pytest.mark.parametrize(
    ("live", "history", "expected"),
    [
        # A one-row capture re-running a 1,500-row slot.
        (1, VolumeHistory(published=1500), ("volume", 0.000667, 0.5, False)),
        (750, VolumeHistory(published=1500), ("volume", 0.5, 0.5, True)),
        (749, VolumeHistory(published=1500, recent=(749, 749, 749)), ("volume", 0.499333, 0.5, False)),
        # No run of the slot: the median of the recent runs (15,000 of 12,000 / 15,000 / 20,000 / 16,000 -> 15,500).
        (3000, VolumeHistory(recent=(12000, 15000, 20000, 16000)), ("volume", 0.193548, 0.25, False)),
        (3875, VolumeHistory(recent=(12000, 15000, 20000, 16000)), ("volume", 0.25, 0.25, True)),
        # Too little history, or a reference without live flights: nothing to compare with.
        (1, VolumeHistory(recent=(15000, 15000)), ("volume", None, None, True)),
        (1, VolumeHistory(published=0), ("volume", None, 0.5, True)),
    ],
)
def test_volume_against_the_published_run_or_the_recent_median(live, history, expected) -> None:
    check = check_volume(live, history, VOLUME)
    assert (check.name, check.value, check.threshold, check.passed) == expected


def test_volume_failure_says_what_it_was_compared_with() -> None:
    check = check_volume(1, VolumeHistory(published=1500), VOLUME)
    assert check.detail == "1 live flights, 0.1% of the 1500 of the slot's published run (< min_share_of_published 50%)"
    median = check_volume(3000, VolumeHistory(recent=(12000, 15000, 20000, 16000)), VOLUME)
    assert median.detail == (
        "3000 live flights, 19.4% of the median 15500 of the last 4 successful runs (< min_share_of_median 25%)"
    )


def test_volume_thresholds_come_from_the_quality_settings() -> None:
    off = QualitySettings(min_share_of_published=0.0, min_share_of_median=0.0)
    assert check_volume(1, VolumeHistory(published=1500), off).passed
    strict = QualitySettings(volume_min_history=1, min_share_of_median=0.9)
    assert not check_volume(80, VolumeHistory(recent=(100,)), strict).passed


def test_volume_is_added_to_the_report_and_allow_degraded_is_the_pipeline_s_as_for_any_check() -> None:
    report = with_volume(
        QualityReport([Check("silver_rows", 1.0, 1.0, True)]), 1, VolumeHistory(published=1500), VOLUME
    )
    assert [c.name for c in report.checks] == ["silver_rows", "volume"]
    assert not report.passed and report.failed_names == ["volume"]


@pytest.mark.parametrize(
    ("quality", "message"),
    [
        ({"min_share_of_published": 1.5}, "quality: min_share_of_published must be in"),
        ({"min_share_of_median": -0.1}, "quality: min_share_of_median must be in"),
        ({"volume_history_runs": 0}, "quality: volume_history_runs must be between 1 and 1000"),
        ({"volume_min_history": 13}, "quality: volume_min_history"),
        ({"volume_history_runs": "12"}, "quality.volume_history_runs must be an integer"),
    ],
)
def test_volume_settings_are_validated(quality: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        JobConfig.from_dict({"data_root": "d", "run_slot": "2026-11-22T14", "quality": quality})
