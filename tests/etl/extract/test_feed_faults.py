"""Feed faults end to end: `etl run --live` against the local feed server, a good slot published before."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from etl import cli
from etl.core.layout import RunSlot, raw_flights_dir
from etl.extract.simulate.world import World
from etl.extract.sources.simulated import SimulatedFeed
from tests.etl.lakes import a_published_slot, runs_of
from tests.servers.feed_server import flightradarapi_pointed_at, serve_feed

CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
)
EVERY_TILE_FAILED = r"source health: (\d+) of \1 tiles failed \(100% > max_failed_tile_share 50%\); nothing written"
# The circuit breaker: 5 refusals in a row (a page where JSON was expected is what a challenge looks like).
REFUSED = (
    r"source refused: \d+ answers in a row were blocked or challenged \(last: BlockedFeedError: ValueError: "
    r"Expected JSON response from .+\); unusable for this run, nothing written"
)
GOOD: dict[str, str] = {}  # data root -> the good run published there
# fault -> (server settings, the one-line error the user reads)
FAULTS = {
    "timeout": ({"delay_s": 1.5}, EVERY_TILE_FAILED),
    "http_503": (
        {"fault": lambda b: (503, b"<html>upstream error</html>", {"Content-Type": "text/html"})},
        EVERY_TILE_FAILED,
    ),
    "cloudflare_challenge_html": (
        {"fault": lambda b: (200, CHALLENGE, {"Content-Type": "text/html"})},
        REFUSED,
    ),
    "empty_body": ({"fault": lambda b: (200, b"", {})}, EVERY_TILE_FAILED),
    "no_flights": (
        {"fault": lambda b: (200, b'{"full_count": 0, "version": 4}', {})},
        r"source health: the flightradarapi source returned no flights "
        r"\(\d+ tile\(s\) requested, 0 failed\); nothing written",
    ),
}


SLOT = RunSlot.parse("2026-11-22T14")


def run_live(spark, tmp_path: Path, world: World, capsys, **server) -> tuple[int, str, str]:
    """`etl run --live` for SLOT on a lake holding a good run of it; returns (exit code, the error line, data root)."""
    root = str(tmp_path / "lake")
    good = a_published_slot(spark, root, SLOT)
    GOOD[root] = good["run_id"]
    config = tmp_path / "job.json"
    # Fast failures: a short timeout, one retry, no backoff sleep.
    settings = {
        **{"timeout_s": 0.5, "retries": 1, "backoff_base_s": 0, "backoff_max_s": 0, "concurrency": 8},
        **{"max_requests_per_s": 0, "blocked_backoff_base_s": 0, "blocked_backoff_max_s": 0},
    }
    config.write_text(json.dumps({"extract": settings}))
    with serve_feed(SimulatedFeed(world.flights), **server) as feed, flightradarapi_pointed_at(feed.base_url):
        code = cli.main(["run", "--live", "--data-root", root, "--run-slot", str(SLOT), "--config", str(config)])
    # The CLI's one-line error (the feed server may also log clients that hung up on it).
    (error,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    return code, error, root


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_unusable_feed_fails_the_run_and_keeps_the_slot(spark, local_only, tmp_path, capsys, fault) -> None:
    server, message = FAULTS[fault]
    code, err, root = run_live(
        spark, tmp_path, World.generate(300, seed=5, capture_time=datetime.now(timezone.utc)), capsys, **server
    )

    assert code == 1
    assert re.fullmatch(message, re.sub(r"^error: Source(Health|Refused)Error: ", "", err)), err
    assert runs_of(root, "silver_flights", SLOT) == {GOOD[root]}  # the good slot, untouched
    assert not Path(raw_flights_dir(root, SLOT)).exists()
    (manifest,) = [
        m for m in (json.loads(p.read_text()) for p in Path(root, "runs").glob("*.json")) if m["source"] != "test"
    ]
    assert manifest["status"] == "failed"
    assert manifest["error"].startswith(("SourceHealthError: source health: ", "SourceRefusedError: source refused: "))


def test_a_stale_feed_fails_the_run_and_keeps_the_slot(spark, local_only, tmp_path, capsys) -> None:
    three_hours_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    code, err, root = run_live(spark, tmp_path, World.generate(300, seed=5, capture_time=three_hours_ago), capsys)

    assert code == 1
    assert re.fullmatch(
        r"error: SourceHealthError: source health: the newest live position is 108\d\ds old "
        r"\(> stale_after_s 1800s\): the feed is stale; nothing written",
        err,
    ), err
    assert runs_of(root, "silver_flights", SLOT) == {GOOD[root]}
    assert not Path(raw_flights_dir(root, SLOT)).exists()
