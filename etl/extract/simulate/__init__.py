"""A simulated world of live air traffic, for the demo, tests and benchmarks (etl.extract.sources.simulated serves
it)."""

from __future__ import annotations
