"""Readable answers: each KPI's answer and its top rows, from a slot's gold tables."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from etl.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.layout import RunSlot
from etl.tables import read_table

# Title of each gold table and, for per-group tables, the column that holds the group.
QUESTIONS: dict[str, tuple[str, str | None]] = {
    "airline_most_live_flights": ("Q1 Airline with the most live flights", None),
    "airline_most_regional_flights_by_continent": (
        "Q2 Per continent, the airline with the most regional live flights",
        "continent",
    ),
    "longest_live_flight": ("Q3 Live flight with the longest route", None),
    "average_route_distance_by_continent": ("Q4 Average route distance of live flights, per continent", None),
    "manufacturer_most_live_flights": ("Q5 Aircraft manufacturer with the most live flights", None),
    "top_models_by_airline_country": ("Q6 Per airline country, the top 3 aircraft models", "airline_country"),
    "most_used_model_by_continent": ("Q6' Per continent, the most used aircraft model", "continent"),
    "airport_flow_imbalance": ("Bonus: airport with the largest outgoing - incoming difference", None),
}
TOP = 5


def format_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """A plain-text table with aligned columns."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.1f}"
        return str(value)

    body = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    rows_text = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join([line, rule, *rows_text])


def _answer(table: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no live flight answers this question in this snapshot"
    best = rows[0]
    if table == "longest_live_flight":
        return (
            f"{best['callsign'] or best['flight_id']} ({best['airline_icao'] or 'no airline'}) "
            f"{best['origin_iata']} -> {best['destination_iata']}, {best['distance_km']:,.0f} km"
        )
    if table == "airport_flow_imbalance":
        return f"{best['airport_iata']} ({best['airport_name']}): {best['difference']:+d}"
    if table == "average_route_distance_by_continent":
        return f"{best['continent']}: {best['avg_distance_km']:,.0f} km on average over {best['flights']} flights"
    label = next(best[k] for k in ("airline_name", "airline_icao", "manufacturer", "aircraft_model") if best.get(k))
    if "regional_flights" in best:
        return f"{label}: {best['regional_flights']} regional live flights"
    return f"{label}: {best['live_flights']} live flights"


def render_slot(spark: SparkSession, data_root: str, slot: RunSlot) -> str:
    """The text `etl show` prints for one slot."""
    out = [f"Flight KPIs for run slot {slot} (UTC)", ""]
    for table in GOLD_TABLES:
        title, group = QUESTIONS[table]
        columns = list(GOLD_SCHEMAS[table])
        df = read_table(spark, data_root, "gold", table, [slot]).select(*columns)
        if group:
            # Groups ordered by their rank-1 row's weight, so the largest continents and countries come first.
            weight = "regional_flights" if "regional_flights" in columns else "live_flights"
            best = df.where(F.col("rank") == 1).orderBy(F.col(weight).desc(), F.col(group))
            groups = [r[group] for r in best.limit(TOP if group == "airline_country" else 10).collect()]
            limit = 3 if group == "airline_country" else 1
            shown = df.where(F.col(group).isin(groups) & (F.col("rank") <= limit))
            rows = [r.asDict() for r in shown.collect()]
            rows.sort(key=lambda r: (groups.index(r[group]), r["rank"]))
            out.append(f"{title}")
            for g in groups:
                first = next(r for r in rows if r[group] == g)
                out.append(f"  {g}: {_answer(table, [first])}")
        else:
            rows = [r.asDict() for r in df.orderBy("rank").limit(TOP).collect()]
            out.append(f"{title}\n  answer: {_answer(table, rows)}")
        if rows:
            out.append(_indent(format_table(columns, rows)))
        out.append("")
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
