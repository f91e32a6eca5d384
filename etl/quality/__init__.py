"""The quality gate: what a slot is measured by (coverage) and the verdicts on those figures (gate)."""
