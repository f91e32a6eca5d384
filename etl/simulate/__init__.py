"""A simulated world of live air traffic and feeds serving it, for tests, the demo and benchmarks."""

from __future__ import annotations
