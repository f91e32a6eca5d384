"""Coverage of each reference mapping on the real FR24 captures, before and after the field's libraries.

Run: `PYTHONPATH=. python scripts/reference_coverage.py [--samples ../shared/samples/fr24]`.

For every capture `flights_*.csv` in the samples folder the script replays it as the job does (snapshot replay,
clean, enrich with `load_references` on the package fallbacks: airportsdata airports, no FR24 lists) and prints,
per mapping, the share of the airborne aircraft flights that carry the code and that the reference resolves:
- airline country: flights with an airline ICAO code whose airline gets a country;
- aircraft: flights with a type designator that get both a manufacturer and a model; the codes that name no
  type (`etl.reference.aircraft.NO_TYPE_CODES`: GLID, 0000, TRIN, ...) are not designators and counted apart
  ("no type"), as no reference can give them a manufacturer;
- origin / destination: flights with that airport code whose airport is known with a continent.
"before" are the figures this same measurement printed on the code before the libraries came in (the project's
own country, airline and aircraft tables, commit d71c36a, with only the NO_TYPE_CODES constant added so that
both sides count the same flights), kept here as printed; "after" is measured now.

Each capture is measured a second time without its address column (`icao_24bit` emptied, as the captures kata
repositories save have none): airline countries then come from the registrations' nationality marks alone, and
their coverage must stay within `NO_ADDRESS_MAX_DROP` of the full capture's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from etl.core.spark_session import BASE_SETTINGS, keep, session_builder
from etl.extract.landing import raw_csv
from etl.extract.sources.snapshot import read_snapshot
from etl.reference import load_references
from etl.reference.aircraft import NO_TYPE_CODES
from etl.transform.clean import clean_flights, read_raw_flights
from etl.transform.enrich import SLOT_KEY, enrich_live_flights

DEFAULT_SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "samples" / "fr24"
MAPPINGS: tuple[str, ...] = ("airline_country", "aircraft", "origin", "destination")
NO_TYPE = "no_type"  # flights whose aircraft code names no type (NO_TYPE_CODES)
# The bars the reference data must reach on every capture.
BARS: dict[str, float] = {"airline_country": 0.99, "aircraft": 0.995, "origin": 0.995, "destination": 0.995}
ADDRESS = "icao_24bit"  # the column a capture without addresses lacks
NO_ADDRESS_MAX_DROP = 0.01  # without addresses, a mapping's coverage may fall by at most one point

Figures = dict[str, dict[str, tuple[int, int]]]  # capture -> mapping -> (resolved, present)
_KEY_SEPARATOR = "."  # a replayed file is named <variant>.<capture file name>

# capture -> mapping -> (resolved, present), printed by this script at commit d71c36a.
BEFORE: dict[str, dict[str, tuple[int, int]]] = {
    "flights_20250719_084941.csv": {
        "airline_country": (1171, 1261),
        "aircraft": (1330, 1330),
        "origin": (1284, 1289),
        "destination": (1256, 1257),
    },
    "flights_20250719_125747.csv": {
        "airline_country": (1091, 1194),
        "aircraft": (1279, 1281),
        "origin": (1215, 1221),
        "destination": (1181, 1185),
    },
    "flights_20250719_133601.csv": {
        "airline_country": (1016, 1117),
        "aircraft": (1233, 1235),
        "origin": (1139, 1145),
        "destination": (1098, 1100),
    },
    "flights_20250720_102010.csv": {
        "airline_country": (1167, 1261),
        "aircraft": (1322, 1322),
        "origin": (1276, 1278),
        "destination": (1251, 1251),
    },
    "flights_20250720_102150.csv": {
        "airline_country": (1169, 1263),
        "aircraft": (1326, 1326),
        "origin": (1282, 1284),
        "destination": (1253, 1253),
    },
    "flights_20250720_103237.csv": {
        "airline_country": (1168, 1258),
        "aircraft": (1318, 1318),
        "origin": (1276, 1279),
        "destination": (1254, 1254),
    },
    "flights_20250720_123810.csv": {
        "airline_country": (1134, 1241),
        "aircraft": (1303, 1304),
        "origin": (1268, 1268),
        "destination": (1235, 1235),
    },
    "flights_20250720_151519.csv": {
        "airline_country": (888, 985),
        "aircraft": (1140, 1141),
        "origin": (1025, 1038),
        "destination": (976, 981),
    },
    "flights_20250720_151628.csv": {
        "airline_country": (886, 980),
        "aircraft": (1132, 1133),
        "origin": (1020, 1034),
        "destination": (971, 976),
    },
    "flights_20250720_151713.csv": {
        "airline_country": (883, 977),
        "aircraft": (1128, 1129),
        "origin": (1014, 1027),
        "destination": (965, 970),
    },
    "flights_20250720_151959.csv": {
        "airline_country": (879, 972),
        "aircraft": (1126, 1127),
        "origin": (1013, 1029),
        "destination": (961, 965),
    },
    "flights_20250720_152707.csv": {
        "airline_country": (869, 958),
        "aircraft": (1120, 1121),
        "origin": (996, 1009),
        "destination": (950, 954),
    },
    "flights_20250721_201243.csv": {
        "airline_country": (1079, 1163),
        "aircraft": (1338, 1339),
        "origin": (1218, 1232),
        "destination": (1162, 1166),
    },
}


def coverage(live: DataFrame) -> dict[str, dict[str, tuple[int, int]]]:
    """capture (the rows' SLOT_KEY) -> mapping -> (flights resolved, flights carrying the code) of enriched live
    flights, in one Spark job."""
    no_type = F.col("aircraft_code").isin(*sorted(NO_TYPE_CODES))
    checks = {
        "airline_country": (F.col("airline_icao").isNotNull(), F.col("airline_country").isNotNull()),
        "aircraft": (
            F.col("aircraft_code").isNotNull() & ~no_type,
            F.col("manufacturer").isNotNull() & F.col("aircraft_model").isNotNull(),
        ),
        "origin": (F.col("origin_iata").isNotNull(), F.col("origin_continent").isNotNull()),
        "destination": (F.col("destination_iata").isNotNull(), F.col("destination_continent").isNotNull()),
        NO_TYPE: (no_type, F.lit(True)),
    }
    sums = []
    for name, (present, resolved) in checks.items():
        sums.append(F.sum(F.when(present, 1).otherwise(0)).alias(f"{name}_present"))
        sums.append(F.sum(F.when(present & resolved, 1).otherwise(0)).alias(f"{name}_resolved"))
    return {
        row[SLOT_KEY]: {name: (int(row[f"{name}_resolved"] or 0), int(row[f"{name}_present"] or 0)) for name in checks}
        for row in live.groupBy(SLOT_KEY).agg(*sums).collect()
    }


def measure_variants(spark: SparkSession, samples: Path, variants: dict[str, tuple[str, ...]]) -> dict[str, Figures]:
    """variant -> capture name -> mapping -> (resolved, present), for every capture with live flights.

    Each variant replays every capture as the job does, the variant's columns emptied (`()`: none). All of them are
    cleaned, enriched and measured in one pass, keyed by variant and capture as a backfill keys its slots: each
    capture is cleaned on its own (its duplicates are its own) and keeps its own joins and majorities. One pass
    rather than one per capture: the cost of a pass is its query plans, not its few thousand rows.
    """
    refs = load_references(spark, airports_csv=None, airlines_csv=None)
    captures = sorted(samples.glob("flights_*.csv"))
    with tempfile.TemporaryDirectory() as work:
        for capture in captures:
            rows = read_snapshot(str(capture)).rows
            for variant, without in variants.items():
                replayed = [{**row, **dict.fromkeys(without, "")} for row in rows]
                (Path(work) / f"{variant}{_KEY_SEPARATOR}{capture.name}").write_bytes(raw_csv(replayed))
        # One scan of the folder: the file's name is the key.
        raw = read_raw_flights(spark, work).withColumn(SLOT_KEY, F.element_at(F.split(F.input_file_name(), "/"), -1))
        silver = keep(clean_flights(raw, key=SLOT_KEY).silver)
        measured = coverage(enrich_live_flights(silver, refs))
    spark.catalog.clearCache()
    figures: dict[str, Figures] = {variant: {} for variant in variants}
    for key, found in measured.items():
        variant, _, capture = key.partition(_KEY_SEPARATOR)
        if any(found.get(m, (0, 0))[1] for m in MAPPINGS):
            figures[variant][capture] = found
    return {variant: dict(sorted(by_capture.items())) for variant, by_capture in figures.items()}


def measure(spark: SparkSession, samples: Path, *, without: tuple[str, ...] = ()) -> Figures:
    """capture name -> mapping -> (resolved, present), for every capture with live flights (`without`: emptied)."""
    return measure_variants(spark, samples, {"replayed": without})["replayed"]


def _share(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "-"
    resolved, present = pair
    return f"{resolved / present:.1%} ({resolved}/{present})" if present else "n/a"


def table(figures: dict[str, dict[str, tuple[int, int]]]) -> str:
    """A Markdown table: per capture and mapping, before -> after."""
    lines = [
        "| capture | " + " | ".join(f"{m} before | {m} after" for m in MAPPINGS) + " | no-type codes |",
        "|---|" + "---|---|" * len(MAPPINGS) + "---|",
    ]
    for capture, after in figures.items():
        before = BEFORE.get(capture, {})
        cells = [f"{_share(before.get(m))} | {_share(after[m])}" for m in MAPPINGS]
        name = capture.removeprefix("flights_").removesuffix(".csv")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {after[NO_TYPE][1]} |")
    return "\n".join(lines)


def address_table(full: Figures, bare: Figures) -> str:
    """A Markdown table: per capture and mapping, the coverage with the address column and without it."""
    lines = [
        "| capture | " + " | ".join(f"{m} with {ADDRESS} | {m} without" for m in MAPPINGS) + " |",
        "|---|" + "---|---|" * len(MAPPINGS),
    ]
    for capture, with_address in full.items():
        cells = [f"{_share(with_address[m])} | {_share(bare.get(capture, {}).get(m))}" for m in MAPPINGS]
        lines.append(f"| {capture.removeprefix('flights_').removesuffix('.csv')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def address_drops(full: Figures, bare: Figures) -> list[str]:
    """`capture mapping with -> without` for each mapping whose coverage falls by more than NO_ADDRESS_MAX_DROP."""
    drops = []
    for capture, with_address in full.items():
        for mapping in MAPPINGS:
            (r1, p1), (r2, p2) = with_address[mapping], bare.get(capture, {}).get(mapping, (0, 0))
            if p1 and (not p2 or round(r1 / p1 - r2 / p2, 9) > NO_ADDRESS_MAX_DROP):  # 0.99 - 0.98 is 0.01
                after = f"{r2 / p2:.2%}" if p2 else "n/a"
                drops.append(f"{capture} {mapping} {r1 / p1:.2%} with {ADDRESS}, {after} without")
    return drops


def below_bars(figures: dict[str, dict[str, tuple[int, int]]]) -> list[str]:
    """`capture mapping share < bar` for each mapping that misses its bar on a capture."""
    misses = []
    for capture, after in figures.items():
        for mapping in MAPPINGS:
            resolved, present = after[mapping]
            if present and resolved / present < BARS[mapping]:
                misses.append(f"{capture} {mapping} {resolved / present:.2%} < {BARS[mapping]:.1%}")
    return misses


def main(argv: list[str] | None = None) -> int:
    """Print the coverage table; exit 1 when a mapping misses its bar on a capture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="folder of flights_*.csv captures")
    args = parser.parse_args(argv)
    if not any(args.samples.glob("flights_*.csv")):
        print(f"no flights_*.csv captures in {args.samples}", file=sys.stderr)
        return 2
    # The job's base settings (etl/core/spark_session.py); 1,500-row captures need only 4 shuffle partitions.
    settings = {**BASE_SETTINGS, "spark.sql.shuffle.partitions": "4"}
    spark = session_builder("reference-coverage", "local[2]", settings).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    measured = measure_variants(spark, args.samples, {"full": (), "bare": (ADDRESS,)})
    figures, bare = measured["full"], measured["bare"]
    print(table(figures))
    print()
    print(address_table(figures, bare))
    misses = below_bars(figures)
    for miss in misses:
        print(f"below the bar: {miss}")
    drops = address_drops(figures, bare)
    for drop in drops:
        print(f"more than {NO_ADDRESS_MAX_DROP:.0%} lost without addresses: {drop}")
    return 1 if misses or drops else 0


if __name__ == "__main__":
    sys.exit(main())
