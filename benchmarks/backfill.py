"""One backfill job over 100 slots of 20,000 rows beside per-slot runs, each in its own process, as scheduled.

Run: `python benchmarks/backfill.py [--slots 100] [--slot-rows 20000] [--sample 10] [--worlds 10] [--with-from-raw]`.

Input, prepared once and not timed: `--worlds` simulated world snapshots (`etl.extract.simulate.world`, one seed
each) of `--slot-rows` flights, written as raw CSV files; world i % worlds lands in slot i of `--slots` two-hourly
slots from 2026-11-01T00, by a file copy rather than by simulating 100 worlds. Each day gets its reference snapshot (the
`airportsdata` airports, as an offline snapshot run lands it). Silver: `etl backfill --from-raw` over every slot
cleans each slot's capture and publishes the slot (as a run of that slot would leave it: the backfill then reads
every slot's own silver, 100 x 20,000 rows, at the snapshots their manifests name).
Then, each in its own process (`python -m etl ...`, local[*], the job's own Spark settings), timed end to end:
1. `backfill` over every slot: the gold tables recomputed from silver, in one job, each slot published with its
   manifest;
2. with `--with-from-raw`, `backfill --from-raw` over every slot: every slot's raw re-cleaned in one pass (each as
   on its own) into silver + quarantine, then the KPIs of all slots in one job;
3. per-slot runs as the schedule runs them, one process per slot: `run --snapshot <that slot's capture>` (the
   capture replaces extraction: no feed), for `--sample` slots; the total for every slot is the sample's mean
   times the number of slots, and the output says so.
The ratios are (per-slot total) / (backfill wall time), from this one run on this machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from etl.core.airports import airportsdata_airports
from etl.core.columns import FLIGHT_FIELDS, RAW_AIRLINE_COLUMNS, RAW_AIRPORT_COLUMNS, RAW_COLUMNS
from etl.core.layout import RunSlot, raw_flights_file
from etl.core.storage import LocalStorage
from etl.extract.reference import land_reference
from etl.extract.simulate.world import iter_flights

FIRST_SLOT = RunSlot.parse("2026-11-01T00")


def slots(count: int) -> list[RunSlot]:
    """`count` two-hourly slots from FIRST_SLOT, as the schedule makes them."""
    return [RunSlot(FIRST_SLOT.start + timedelta(hours=2 * i)) for i in range(count)]


def write_world(path: Path, rows: int, seed: int, slot: RunSlot) -> None:
    """One raw capture of `rows` simulated flights, captured at the slot's hour."""
    capture = int(slot.start.timestamp())
    requested = slot.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RAW_COLUMNS)
        for row in iter_flights(rows, seed=seed, capture_epoch=capture):
            writer.writerow([*(row[c] for c in FLIGHT_FIELDS), "", requested, "", ""])


def prepare(root: Path, captures: Path, all_slots: list[RunSlot], rows: int, worlds: int) -> float:
    """Raw and silver partitions and reference snapshots of every slot, plus each slot's capture; seconds taken."""
    started = time.perf_counter()
    storage = LocalStorage()
    for number, slot in enumerate(all_slots):
        capture = captures / f"flights_{slot.compact}.csv"
        if number < worlds:
            write_world(capture, rows, seed=1000 + number, slot=slot)
        else:
            # The same world as slot number % worlds; its positions are then older than the slot, which a capture
            # replay allows (staleness is judged against the capture's own newest position).
            shutil.copyfile(captures / f"flights_{all_slots[number % worlds].compact}.csv", capture)
        target = Path(raw_flights_file(str(root), slot, f"{slot.start:%Y%m%dT%H}-prepared"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(capture, target)
    for day in sorted({slot.partition_values["tech_day"] for slot in all_slots}):
        land_reference(
            storage, str(root), "airports", day, [("airportsdata", airportsdata_airports)], RAW_AIRPORT_COLUMNS
        )
        land_reference(storage, str(root), "airlines", day, [("none", list)], RAW_AIRLINE_COLUMNS)
    timed(["backfill", "--data-root", str(root), "--from", str(all_slots[0]), "--to", str(all_slots[-1]), "--from-raw"])
    return time.perf_counter() - started


def timed(command: list[str]) -> float:
    """Run one `python -m etl ...` process; its wall time in seconds (a failure stops the benchmark)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "etl", *command], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: `etl {' '.join(command)}` exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return wall


def main() -> None:
    """Prepare, run the three cases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=100)
    parser.add_argument("--slot-rows", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=10, help="per-slot runs timed (the rest are extrapolated)")
    parser.add_argument("--worlds", type=int, default=10, help="distinct simulated worlds spread over the slots")
    parser.add_argument("--with-from-raw", action="store_true", help="also time `backfill --from-raw` over every slot")
    parser.add_argument("--keep", help="prepare the lake in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    all_slots = slots(args.slots)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    root, captures = work / "lake", work / "captures"
    load_before = os.getloadavg()
    prep = prepare(root, captures, all_slots, args.slot_rows, min(args.worlds, args.slots))
    first, last = str(all_slots[0]), str(all_slots[-1])
    print(f"{args.slots} slots of {args.slot_rows:,} raw rows ({first} .. {last}), prepared in {prep:.1f} s")

    span = ["--data-root", str(root), "--from", first, "--to", last]
    backfills = {"`etl backfill` (KPIs from silver)": timed(["backfill", *span])}
    print(f"backfill: {backfills['`etl backfill` (KPIs from silver)']:.1f} s", flush=True)
    if args.with_from_raw:
        backfills["`etl backfill --from-raw` (clean + KPIs)"] = timed(["backfill", *span, "--from-raw"])
        print(f"backfill --from-raw: {backfills['`etl backfill --from-raw` (clean + KPIs)']:.1f} s", flush=True)
    sample = all_slots[: args.sample]
    walls = []
    for slot in sample:
        capture = captures / f"flights_{slot.compact}.csv"
        walls.append(timed(["run", "--snapshot", str(capture), "--data-root", str(root), "--run-slot", str(slot)]))
        print(f"  run {slot}: {walls[-1]:.1f} s", flush=True)
    per_slot = sum(walls) / len(walls)
    per_slot_total = per_slot * args.slots
    load_after = os.getloadavg()

    measured = f"mean of {len(sample)} timed x {args.slots}" if len(sample) < args.slots else "all timed"
    print()
    print("| case | processes | wall time | per slot | per-slot runs / this |")
    print("|---|---|---|---|---|")
    print(
        f"| per-slot `etl run --snapshot` ({measured}) | {args.slots} | {per_slot_total:,.0f} s | "
        f"{per_slot:.1f} s | 1.0x |"
    )
    for label, wall in backfills.items():
        print(f"| {label} | 1 | {wall:,.1f} s | {wall / args.slots:.2f} s | {per_slot_total / wall:.1f}x |")
    print()
    print(
        f"load average (1, 5, 15 min) before: {', '.join(f'{v:.1f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} cores"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
