"""Whole-world extraction: a tiled FR24 capture (or a recorded snapshot) landed as raw CSV."""

from __future__ import annotations

from etl.extract.landing import RawLanding, extract_to_raw

__all__ = ["RawLanding", "extract_to_raw"]
