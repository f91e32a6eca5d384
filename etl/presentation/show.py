"""Readable answers: each KPI's answer and its top rows, from a slot's gold tables."""

from __future__ import annotations

from typing import Any

from etl.core.layout import RunSlot
from etl.publication.manifest import DEGRADED
from etl.publication.tables import TableNotPublishedError, published_manifest, read_rows
from etl.transform.kpi_catalog import KPIS, NO_ANSWER, Kpi, wording

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


def _answer(kpi: Kpi, rows: list[dict[str, Any]]) -> str:
    return wording(kpi.answer, rows[0]) if rows else NO_ANSWER


def status_lines(manifest: dict[str, Any] | None) -> list[str]:
    """The run's status under the title: a banner naming the failed checks when the run was published degraded."""
    if manifest is None:
        return ["run status: unknown (no published run manifest for this slot)"]
    status = manifest.get("status")
    if status == DEGRADED:
        failed = ", ".join((manifest.get("quality") or {}).get("failed") or [])
        rule = "!" * 78
        return [
            rule,
            f"DEGRADED run {manifest.get('run_id')}: published although the quality gate failed",
            f"failed checks: {failed}",
            rule,
        ]
    return [f"run {manifest.get('run_id')}: {status}"]


def render_slot(data_root: str, slot: RunSlot | None = None, as_of: str | None = None) -> str:
    """The text `etl show` prints: the slot's newest published run (or run `as_of`), then each KPI's answer and rows.

    Read without Spark, at the snapshots the run's manifest names (etl/publication/tables.py).
    """
    manifest = published_manifest(data_root, slot, as_of)
    if manifest is None:
        where = f"slot {slot}" if slot else "any slot"
        raise TableNotPublishedError(
            f"no published run for {where} under {data_root}/runs: run `python -m etl run` first"
        )
    shown_slot = RunSlot.parse(manifest["run_slot"])
    out = [f"Flight KPIs for run slot {shown_slot} (UTC)", *status_lines(manifest), ""]
    for kpi in KPIS:
        columns = list(kpi.columns)
        table = read_rows(data_root, kpi.table, manifest)
        if kpi.group:
            group = kpi.group
            # Groups ordered by their rank-1 row's weight, so the largest continents and countries come first; fewer
            # groups when each shows several rows.
            best = sorted((r for r in table if r["rank"] == 1), key=lambda r: (-(r[kpi.value] or 0), r[group] or ""))
            groups = [r[group] for r in best[: TOP if kpi.rows_per_group > 1 else 10]]
            rows = [{c: r[c] for c in columns} for r in table if r[group] in groups and r["rank"] <= kpi.rows_per_group]
            rows.sort(key=lambda r: (groups.index(r[group]), r["rank"]))
            out.append(kpi.question)
            for g in groups:
                first = next(r for r in rows if r[group] == g)
                out.append(f"  {g}: {_answer(kpi, [first])}")
        else:
            rows = [{c: r[c] for c in columns} for r in sorted(table, key=lambda r: r["rank"])[:TOP]]
            out.append(f"{kpi.question}\n  answer: {_answer(kpi, rows)}")
        if rows:
            out.append(_indent(format_table(columns, rows)))
        out.append("")
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
