"""The quality gate between the KPIs and publication: plain numbers in, every check's verdict out.

`evaluate` is pure (no Spark): the pipeline measures a slot's figures (`etl.quality.coverage.mapping_coverage_counts`,
then `inputs_from_counts`) and hands them over, and a run over many slots can call it once per slot. Checks, each
configurable in the job config's `quality` section (`etl.core.config.QualitySettings`):
- `silver_rows`: usable rows after cleaning, at least `min_silver_rows` (1);
- `live_flights`: airborne aircraft, at least `min_live_flights` (1);
- `quarantine_share`: quarantined rows over raw rows, at most `max_quarantine_share` (0.05);
- `coverage:<mapping>`: for each mapping of the manifest's `mapping_coverage`, the share of the live flights that
  carry the code it maps (e.g. an origin IATA code) which the reference resolves, at least its floor
  (`coverage_floors`, over etl.core.config.DEFAULT_COVERAGE_FLOORS); when no live flight carries the code there is
  nothing to judge and the check passes;
- `inputs:<KPI>`: every capture column the KPI needs is present (a column the capture lacks is named);
- `volume` (`check_volume`, fed by `etl.publication.manifest.volume_history`): the live flights against earlier
  successful runs: a re-run of a slot that has one needs `min_share_of_published` (0.5) of its live flights; a slot
  without one needs `min_share_of_median` (0.25) of the median of the last `volume_history_runs` (12) successful runs of
  any slot, once there are `volume_min_history` (3) of them; with less history there is nothing to compare with and the
  check passes. Only runs started before the run count (for a backfill's slots: the runs before the backfill). A 1-row
  capture never replaces a 1,500-row slot unless `allow_degraded` says so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.core.config import QualitySettings

# The capture columns (FlightRadarAPI names) each KPI reads; live flights themselves need on_ground.
KPI_INPUTS: dict[str, tuple[str, ...]] = {
    "Q1": ("on_ground", "airline_icao"),
    "Q2": ("on_ground", "airline_icao", "origin_airport_iata", "destination_airport_iata"),
    "Q3": ("on_ground", "origin_airport_iata", "destination_airport_iata"),
    "Q4": ("on_ground", "origin_airport_iata", "destination_airport_iata"),
    "Q5": ("on_ground", "aircraft_code"),
    "Q6": ("on_ground", "airline_icao", "aircraft_code"),
    "Q6'": ("on_ground", "origin_airport_iata", "aircraft_code"),
    "Bonus": ("on_ground", "origin_airport_iata", "destination_airport_iata"),
}


@dataclass(frozen=True)
class QualityInputs:
    """The figures of one slot the gate judges."""

    raw_rows: int
    silver_rows: int
    quarantine_rows: int
    live_flights: int
    mapping_coverage: dict[str, float | None]  # mapping -> share of the live flights carrying its code it resolves
    coverage_denominators: dict[str, int] = field(default_factory=dict)  # mapping -> live flights carrying the code
    missing_columns: list[str] = field(default_factory=list)  # capture columns absent (FlightRadarAPI names)

    @property
    def quarantine_share(self) -> float:
        """Quarantined rows over raw rows (0 when there is no raw row)."""
        return self.quarantine_rows / self.raw_rows if self.raw_rows else 0.0


@dataclass(frozen=True)
class Check:
    """One check's verdict: what was measured, against what, and why it failed."""

    name: str
    value: float | None
    threshold: float | None
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class QualityReport:
    """Every check of one slot, in a fixed order."""

    checks: list[Check]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed_names(self) -> list[str]:
        """The names of the failed checks, in check order."""
        return [c.name for c in self.checks if not c.passed]

    def one_line(self) -> str:
        """`quality gate failed: <check> (<detail>); ...`, or `quality gate passed (N checks)`."""
        failed = [c for c in self.checks if not c.passed]
        if not failed:
            return f"quality gate passed ({len(self.checks)} checks)"
        return "quality gate failed: " + "; ".join(f"{c.name} ({c.detail})" for c in failed)

    def lines(self) -> list[str]:
        """One aligned line per check, for the console."""
        width = max((len(c.name) for c in self.checks), default=0)
        return [
            f"  {'ok  ' if c.passed else 'FAIL'} {c.name.ljust(width)}  {_number(c.value)} vs {_number(c.threshold)}"
            + (f"  {c.detail}" if not c.passed else "")
            for c in self.checks
        ]

    @classmethod
    def from_dict(cls, section: dict[str, Any]) -> QualityReport:
        """Back from a manifest's `quality` section."""
        return cls([Check(**check) for check in section.get("checks", [])])

    def to_dict(self) -> dict[str, Any]:
        """The manifest's `quality` section (allow_degraded is added by the pipeline)."""
        return {
            "passed": self.passed,
            "failed": self.failed_names,
            "checks": [c.to_dict() for c in self.checks],
        }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def evaluate(inputs: QualityInputs, settings: QualitySettings) -> QualityReport:
    """Judge one slot's figures against the settings: every check, passed or not (pure, no Spark)."""
    checks = [
        Check(
            "silver_rows",
            float(inputs.silver_rows),
            float(settings.min_silver_rows),
            inputs.silver_rows >= settings.min_silver_rows,
            f"{inputs.silver_rows} usable rows of {inputs.raw_rows} (min_silver_rows {settings.min_silver_rows})",
        ),
        Check(
            "live_flights",
            float(inputs.live_flights),
            float(settings.min_live_flights),
            inputs.live_flights >= settings.min_live_flights,
            f"{inputs.live_flights} live flights (min_live_flights {settings.min_live_flights})",
        ),
    ]
    share = inputs.quarantine_share
    checks.append(
        Check(
            "quarantine_share",
            round(share, 6),
            settings.max_quarantine_share,
            share <= settings.max_quarantine_share,
            f"{inputs.quarantine_rows} of {inputs.raw_rows} rows quarantined ({share:.1%} > max_quarantine_share "
            f"{settings.max_quarantine_share:.1%})",
        )
    )
    floors = settings.floors()
    for mapping, floor in floors.items():
        carrying = inputs.coverage_denominators.get(mapping)
        value = inputs.mapping_coverage.get(mapping)
        if carrying == 0 or value is None:
            # Nothing to resolve (e.g. a capture of gliders and balloons only): the KPIs that need the code are
            # rightly empty, and the reference is not to blame. An absent column is the inputs check's business.
            detail = f"no live flight carries the code {mapping} maps: nothing to resolve"
            checks.append(Check(f"coverage:{mapping}", None, floor, True, detail))
            continue
        of = f" of {carrying} live flights carrying its code" if carrying is not None else ""
        checks.append(
            Check(
                f"coverage:{mapping}",
                round(value, 6),
                floor,
                value >= floor,
                f"{value:.1%}{of} resolved (< floor {floor:.0%})",
            )
        )
    missing = set(inputs.missing_columns)
    for kpi, columns in KPI_INPUTS.items():
        absent = [c for c in columns if c in missing]
        detail = "; ".join(f"{kpi} needs {c}: absent from the capture" for c in absent)
        checks.append(Check(f"inputs:{kpi}", float(len(absent)), 0.0, not absent, detail))
    return QualityReport(checks)


@dataclass(frozen=True)
class VolumeHistory:
    """The live flights of earlier successful runs, read from their manifests
    (etl.publication.manifest.volume_history)."""

    published: int | None = None  # the slot's newest successful run's live flights; None: the slot has none
    recent: tuple[int, ...] = ()  # the last successful runs of any slot, oldest first


def check_volume(live_flights: int, history: VolumeHistory, settings: QualitySettings) -> Check:
    """The `volume` check: this run's live flights against the slot's published run, else the recent median (pure)."""
    reference: float
    if history.published is not None:
        reference, threshold, knob = history.published, settings.min_share_of_published, "min_share_of_published"
        against = f"the {reference:g} of the slot's published run"
    elif len(history.recent) >= settings.volume_min_history:
        reference, threshold = statistics.median(history.recent), settings.min_share_of_median
        knob = "min_share_of_median"
        against = f"the median {reference:g} of the last {len(history.recent)} successful runs"
    else:
        earlier, needed = len(history.recent), settings.volume_min_history
        detail = f"{earlier} earlier successful run(s), fewer than {needed}: nothing to compare with"
        return Check("volume", None, None, True, detail)
    if reference <= 0:
        return Check("volume", None, threshold, True, f"{against} had no live flight: nothing to compare with")
    share = live_flights / reference
    detail = f"{live_flights} live flights, {share:.1%} of {against} (< {knob} {threshold:.0%})"
    return Check("volume", round(share, 6), threshold, share >= threshold, detail)


def with_volume(
    report: QualityReport, live_flights: int, history: VolumeHistory, settings: QualitySettings
) -> QualityReport:
    """The report with the `volume` check added last."""
    return QualityReport([*report.checks, check_volume(live_flights, history, settings)])


def inputs_from_counts(
    counts: dict[str, tuple[int, int]],
    *,
    raw_rows: int,
    silver_rows: int,
    quarantine_rows: int,
    missing_columns: list[str],
) -> QualityInputs:
    """The gate's figures from `etl.quality.coverage.mapping_coverage_counts` of one slot (`_live`: all live
    flights)."""
    live = counts.get("_live", (0, 0))[0]
    coverage = {m: c for m, c in counts.items() if m != "_live"}
    return QualityInputs(
        raw_rows=raw_rows,
        silver_rows=silver_rows,
        quarantine_rows=quarantine_rows,
        live_flights=live,
        # None: no live flight carries the code, nothing to resolve (no share, no metric, no false alarm).
        mapping_coverage={m: (round(r / c, 6) if c else None) for m, (r, c) in coverage.items()},
        coverage_denominators={m: c for m, (_, c) in coverage.items()},
        missing_columns=list(missing_columns),
    )
