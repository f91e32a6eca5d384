"""The one path of a run and a backfill: extract -> clean -> KPIs -> gate -> publish, slot by slot."""
