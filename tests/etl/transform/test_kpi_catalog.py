"""The KPI catalog: its wording on hand-made rows, and its titles in `etl show`, the HTML report and QuickSight."""

from __future__ import annotations

import html
import json
import os
import re

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_s3 as s3

from etl.core.columns import GOLD_SCHEMAS, GOLD_TABLES
from etl.presentation.report import write_report
from etl.presentation.show import render_slot
from etl.quality.gate import KPI_INPUTS
from etl.transform.kpi_catalog import KPI_BY_TABLE, KPIS, NO_ANSWER, TITLES, template_fields, wording
from infra.constructs.catalog import DdlError
from infra.constructs.dashboard import Dashboard, fill_definition, load_dashboard, load_data_set_specs

# Each visual's title, written out: the KPI questions as `etl show` has always printed them, then the map and trend.
EXPECTED_TITLES = {
    "q1": "Q1 Airline with the most live flights",
    "q2": "Q2 Per continent, the airline with the most regional live flights",
    "q3": "Q3 Live flight with the longest route",
    "q4": "Q4 Average route distance of live flights, per continent",
    "q5": "Q5 Aircraft manufacturer with the most live flights",
    "q6": "Q6 Per airline country, the top 3 aircraft models",
    "q6b": "Q6' Per continent, the most used aircraft model",
    "bonus": "Bonus: airport with the largest outgoing - incoming difference",
    "map": "Live flights",
    "trend": "Live flights over runs",
}
KPI_IDS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6b", "bonus"]


def kpi(key: str):
    return next(k for k in KPIS if k.key == key)


def test_one_entry_per_gold_table_in_design_order_named_as_the_quality_gate_names_them():
    assert [k.key for k in KPIS] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q6'", "Bonus"]
    assert [k.key for k in KPIS] == list(KPI_INPUTS)
    assert [k.table for k in KPIS] == list(GOLD_TABLES)
    assert [k.id for k in KPIS] == KPI_IDS
    assert KPI_BY_TABLE["longest_live_flight"].key == "Q3"
    assert [(k.key, k.group, k.rows_per_group) for k in KPIS if k.group] == [
        ("Q2", "continent", 1),
        ("Q6", "airline_country", 3),
        ("Q6'", "continent", 1),
    ]


def test_q6_shows_as_many_models_as_its_gold_table_keeps():
    from etl.transform.kpis import TOP_MODELS_PER_COUNTRY

    assert kpi("Q6").rows_per_group == TOP_MODELS_PER_COUNTRY == 3


def test_templates_read_only_columns_of_their_gold_table():
    for k in KPIS:
        columns = set(GOLD_SCHEMAS[k.table])
        assert template_fields(k.answer) <= columns, k.key
        assert template_fields(k.label) <= columns, k.key
        assert k.value in columns and (k.group is None or k.group in columns), k.key
        headline = template_fields(k.headline)
        assert headline <= ({"groups", "shown"} if k.group else columns), k.key
    assert template_fields("{callsign|flight_id} ({airline_icao?no airline})") == {
        "callsign",
        "flight_id",
        "airline_icao",
    }


def test_answers_read_as_etl_show_prints_them():
    q3 = {"callsign": "TAM1852", "flight_id": "3a141a7b", "airline_icao": "TAM", "origin_iata": "BOG",
          "destination_iata": "CGK", "distance_km": 19833.53605356994}  # fmt: skip
    assert wording(kpi("Q3").answer, q3) == "TAM1852 (TAM) BOG -> CGK, 19,834 km"
    # No callsign: the flight id; no airline: said so.
    assert wording(kpi("Q3").answer, {**q3, "callsign": None, "airline_icao": None}) == (
        "3a141a7b (no airline) BOG -> CGK, 19,834 km"
    )
    q1 = {"rank": 1, "airline_icao": "AAL", "airline_name": "American Airlines", "live_flights": 853}
    assert wording(kpi("Q1").answer, q1) == "American Airlines: 853 live flights"
    assert wording(kpi("Q1").answer, {**q1, "airline_name": ""}) == "AAL: 853 live flights"
    q4 = {"continent": "Africa", "rank": 1, "avg_distance_km": 3836.7744550915368, "flights": 496}
    assert wording(kpi("Q4").answer, q4) == "Africa: 3,837 km on average over 496 flights"
    bonus = {"airport_iata": "SYD", "airport_name": "Sydney", "outgoing": 162, "incoming": 296, "difference": -134}
    assert wording(kpi("Bonus").answer, bonus) == "SYD (Sydney): -134"
    assert wording(kpi("Q2").answer, {"airline_name": "Ryanair", "airline_icao": "RYR", "regional_flights": 451}) == (
        "Ryanair: 451 regional live flights"
    )
    assert NO_ANSWER == "no live flight answers this question in this snapshot"


def test_report_headlines_and_labels():
    bonus = {"airport_iata": "XYZ", "airport_name": None, "difference": 1234}
    assert wording(kpi("Bonus").headline, bonus) == "XYZ (unknown): +1,234"
    assert wording(kpi("Bonus").label, bonus) == "XYZ "  # the report strips the space a missing name leaves
    assert wording(kpi("Q5").headline, {"manufacturer": "Airbus", "live_flights": 8911}) == "Airbus: 8,911"
    assert wording(kpi("Q5").label, {"manufacturer": None, "live_flights": 3}) == "unknown"
    assert wording(kpi("Q6").headline, {"groups": 46, "shown": 10}) == "46 airline countries; the 10 busiest shown"
    assert wording(kpi("Q6'").headline, {"groups": 6, "shown": 6}) == "6 continents"
    q3 = {"callsign": None, "flight_id": "3a141a7b", "origin_iata": "BOG", "destination_iata": "CGK",
          "distance_km": 19833.5}  # fmt: skip
    assert wording(kpi("Q3").label, q3) == "3a141a7b BOG\u2192CGK"


def test_a_template_naming_a_missing_column_fails_loudly():
    with pytest.raises(KeyError, match="airline_name"):
        wording(kpi("Q1").answer, {"airline_icao": "AAL", "live_flights": 1})


def test_catalog_titles_are_the_expected_ones():
    assert TITLES == EXPECTED_TITLES
    assert all(1 <= len(title) <= 512 for title in TITLES.values())  # QuickSight's PlainText title bounds
    assert [k.question for k in KPIS] == [EXPECTED_TITLES[i] for i in KPI_IDS]


def _synthesized() -> tuple[dict[str, str], dict[str, str]]:
    """The dashboard's visual titles by visual id, and its data sets' names by table, as synthesized."""
    app = cdk.App()
    stack = cdk.Stack(app, "Board", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    Dashboard(
        stack,
        "Dashboard",
        principal_arn="arn:aws:quicksight:eu-west-1:123456789012:user/default/analyst",
        database_name="flight_kpis",
        workgroup_name="flight-kpis-analytics",
        data_bucket=s3.Bucket(stack, "Data"),
        results_bucket=s3.Bucket(stack, "Results"),
    )
    template = assertions.Template.from_stack(stack)
    (board,) = template.find_resources("AWS::QuickSight::Dashboard").values()
    (sheet,) = board["Properties"]["Definition"]["Sheets"]
    titles = {}
    for visual in sheet["Visuals"]:
        (body,) = visual.values()
        assert body["Title"]["Visibility"] == "VISIBLE"
        titles[body["VisualId"]] = body["Title"]["FormatText"]["PlainText"]
    names = {}
    for data_set in template.find_resources("AWS::QuickSight::DataSet").values():
        physical = data_set["Properties"]["PhysicalTableMap"]["physical"]
        if "RelationalTable" in physical:
            names[physical["RelationalTable"]["Name"]] = data_set["Properties"]["Name"]
    return titles, names


def test_each_title_appears_in_show_the_report_and_the_quicksight_definition(spark, lake, tmp_path):
    shown = render_slot(lake.root, lake.slots[-1]).splitlines()
    for key in KPI_IDS:
        assert EXPECTED_TITLES[key] in shown, key  # a line of its own

    page = (tmp_path / "report.html").as_posix()
    text = open(write_report(lake.root, out_path=page), encoding="utf-8").read()
    headings = [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", text)]
    assert headings == list(EXPECTED_TITLES.values())
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', text, re.S).group(1).replace("<\\/", "</"))
    assert {p["id"]: p["title"] for p in data["panels"]} == EXPECTED_TITLES

    titles, data_set_names = _synthesized()
    assert titles == EXPECTED_TITLES
    # Each gold table's data set carries its KPI's question too, e.g. Q3's.
    assert data_set_names["longest_live_flight"] == "Q3 Live flight with the longest route"
    assert data_set_names == {table: EXPECTED_TITLES[i] for table, i in zip(GOLD_TABLES, KPI_IDS, strict=True)}


def test_a_data_set_of_a_table_that_is_no_kpi_needs_a_name(tmp_path):
    (tmp_path / "datasets.json").write_text(json.dumps({"datasets": [{"id": "runs", "table": "runs"}]}))
    with pytest.raises(DdlError, match="data set runs: give it a name"):
        load_data_set_specs(tmp_path)


def test_the_committed_definition_takes_every_title_from_the_catalog():
    (sheet,) = load_dashboard()["definition"]["Sheets"]
    placeholders = {
        body["VisualId"]: body["Title"]["FormatText"]["PlainText"] for v in sheet["Visuals"] for body in v.values()
    }
    assert placeholders == {key: f"{{{{title:{key}}}}}" for key in EXPECTED_TITLES}


def test_unknown_title_placeholder_is_refused():
    with pytest.raises(
        DdlError, match=r"refers to title 'q9', which etl/transform/kpi_catalog.py TITLES does not declare"
    ):
        fill_definition({"PlainText": "{{title:q9}}"}, {})
    with pytest.raises(DdlError, match="unknown kind 'kpi'"):
        fill_definition({"PlainText": "{{kpi:q1}}"}, {})
