"""The KPI catalog: each KPI's question and wording, read by `etl show`, the HTML report and the QuickSight sheet.

Pure Python (no Spark, no pyarrow), so the CLI, the report and the CDK app import it cheaply.

Wording is a `str.format` template over one gold row, with two additions for columns that may be empty:
- `{callsign|flight_id}`: the first of the columns that has a value;
- `{airport_name?unknown}`: the text after `?` when none of them has a value (`{airport_name?}`: nothing).
Format specs work as usual: `{distance_km:,.0f}`, `{difference:+d}`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from etl.core.columns import GOLD_SCHEMAS

# What every reader says when a KPI's table has no row for the slot.
NO_ANSWER = "no live flight answers this question in this snapshot"


@dataclass(frozen=True)
class Kpi:
    """One KPI as every reader presents it."""

    key: str  # its name in DESIGN.md and in the quality gate's `inputs:<key>` checks
    id: str  # its panel id in the HTML report and its VisualId in quicksight/dashboard.json
    table: str  # its gold table (etl/core/columns.py GOLD_SCHEMAS)
    question: str  # the title, the same in `etl show`, the report and QuickSight
    # `etl show`'s answer, from the rank-1 row (for a per-group KPI: each group's rank-1 row, after "<group>: ").
    answer: str
    # The report's line under the title: from the rank-1 row; for a per-group KPI from `groups` (how many groups
    # have an answer) and `shown` (how many of them the panel lists).
    headline: str
    label: str  # the report's chart: each row's label (for a top-N-per-group KPI, each cell of its table)
    value: str  # the column the report's chart plots, and by which `etl show` orders the groups
    group: str | None = None  # the column holding the group, for a KPI answered per group
    rows_per_group: int = 1  # the rows shown per group: the top 3 for Q6 (the gold table keeps that many)
    unit: str = ""  # after each value in the report's chart

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns `etl show` prints, in the gold table's order."""
        return tuple(GOLD_SCHEMAS[self.table])


# In DESIGN.md order, which is the order of GOLD_TABLES and of the QuickSight sheet.
KPIS: tuple[Kpi, ...] = (
    Kpi(
        key="Q1",
        id="q1",
        table="airline_most_live_flights",
        question="Q1 Airline with the most live flights",
        answer="{airline_name|airline_icao}: {live_flights} live flights",
        headline="{airline_name|airline_icao?unknown}: {live_flights:,}",
        label="{airline_name|airline_icao?unknown}",
        value="live_flights",
    ),
    Kpi(
        key="Q2",
        id="q2",
        table="airline_most_regional_flights_by_continent",
        question="Q2 Per continent, the airline with the most regional live flights",
        answer="{airline_name|airline_icao}: {regional_flights} regional live flights",
        headline="{groups} continents",
        label="{continent}: {airline_name|airline_icao?unknown}",
        value="regional_flights",
        group="continent",
    ),
    Kpi(
        key="Q3",
        id="q3",
        table="longest_live_flight",
        question="Q3 Live flight with the longest route",
        answer="{callsign|flight_id} ({airline_icao?no airline}) {origin_iata} -> {destination_iata}, "
        "{distance_km:,.0f} km",
        headline="{callsign|flight_id} {origin_iata} \u2192 {destination_iata}: {distance_km:,.0f} km",
        label="{callsign|flight_id} {origin_iata}\u2192{destination_iata}",
        value="distance_km",
        unit=" km",
    ),
    Kpi(
        key="Q4",
        id="q4",
        table="average_route_distance_by_continent",
        question="Q4 Average route distance of live flights, per continent",
        answer="{continent}: {avg_distance_km:,.0f} km on average over {flights} flights",
        headline="longest on average: {continent}, {avg_distance_km:,.0f} km",
        label="{continent} ({flights:,} flights)",
        value="avg_distance_km",
        unit=" km",
    ),
    Kpi(
        key="Q5",
        id="q5",
        table="manufacturer_most_live_flights",
        question="Q5 Aircraft manufacturer with the most live flights",
        answer="{manufacturer}: {live_flights} live flights",
        headline="{manufacturer}: {live_flights:,}",
        label="{manufacturer?unknown}",
        value="live_flights",
    ),
    Kpi(
        key="Q6",
        id="q6",
        table="top_models_by_airline_country",
        question="Q6 Per airline country, the top 3 aircraft models",
        answer="{aircraft_model}: {live_flights} live flights",
        headline="{groups} airline countries; the {shown} busiest shown",
        label="{aircraft_model} ({live_flights})",
        value="live_flights",
        group="airline_country",
        rows_per_group=3,  # etl/transform/kpis.py TOP_MODELS_PER_COUNTRY
    ),
    Kpi(
        key="Q6'",
        id="q6b",
        table="most_used_model_by_continent",
        question="Q6' Per continent, the most used aircraft model",
        answer="{aircraft_model}: {live_flights} live flights",
        headline="{groups} continents",
        label="{continent}: {aircraft_model}",
        value="live_flights",
        group="continent",
    ),
    Kpi(
        key="Bonus",
        id="bonus",
        table="airport_flow_imbalance",
        question="Bonus: airport with the largest outgoing - incoming difference",
        answer="{airport_iata} ({airport_name}): {difference:+d}",
        headline="{airport_iata} ({airport_name?unknown}): {difference:+,}",
        label="{airport_iata} {airport_name?}",
        value="difference",
    ),
)
KPI_BY_TABLE: dict[str, Kpi] = {kpi.table: kpi for kpi in KPIS}

# Title of every visual by its id: the KPIs, then the two panels that are not KPIs (report and QuickSight alike).
TITLES: dict[str, str] = {
    **{kpi.id: kpi.question for kpi in KPIS},
    "map": "Live flights",
    "trend": "Live flights over runs",
}


class _Wording(string.Formatter):
    """str.format over a row, where a field may name fallback columns (`a|b`) and a default text (`?text`)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, str]:
        names, has_default, default = field_name.partition("?")
        value = None
        for name in names.split("|"):
            value = kwargs[name]
            if value is not None and value != "":
                return value, field_name
        return (default if has_default else value), field_name


_WORDING = _Wording()


def wording(template: str, row: Mapping[str, Any]) -> str:
    """A catalog template filled from one row (or from `groups`/`shown` for a per-group headline)."""
    return _WORDING.vformat(template, (), row)


def template_fields(template: str) -> set[str]:
    """Every column a template reads, fallbacks included (for checking templates against the gold schemas)."""
    fields = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field:
            fields.update(field.partition("?")[0].split("|"))
    return fields
