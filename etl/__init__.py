"""Whole-world FlightRadar24 snapshots turned into flight KPIs."""

from __future__ import annotations

__version__ = "0.1.0"
