"""Where the tests find the repository and the real FR24 captures (`../shared/samples/fr24`, beside the clone)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples" / "fr24"
