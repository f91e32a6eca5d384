"""Run slots and the data lake layout (S3 or a local folder)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

# ASCII digits only (re.ASCII: `\d` would also take Devanagari or Arabic-Indic digits); `$` would let a final
# newline through, `\Z` does not.
_SLOT_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]00:?00)?\Z", re.ASCII)
# The data root's top folders (a local folder, or the data bucket on AWS, whose IAM grants name them):
RAW = "raw"  # captures as fetched: raw/flights/<partitions>/<run_id>.csv, raw/reference/<name>/tech_day=<day>/
RAW_FLIGHTS = f"{RAW}/flights"
RAW_REFERENCE = f"{RAW}/reference"
WAREHOUSE = "warehouse"  # the Iceberg tables (JobConfig.warehouse when lake.warehouse is not set)
RUNS = "runs"  # the run manifests, runs/<run_id>.json
DATA_ROOT_FOLDERS = (RAW, WAREHOUSE, RUNS)

# Years a slot may name: four-digit partition values (`tech_year=0001` would not round-trip through strftime) and
# the position times clean accepts, [1970, 2100).
MIN_YEAR, MAX_YEAR = 1970, 2099


class RunSlotError(ValueError):
    """A run slot that cannot be parsed."""


@dataclass(frozen=True, order=True)
class RunSlot:
    """The hour a run's results belong to: the scheduled time floored to the hour, UTC."""

    start: datetime  # tz-aware UTC, minute = second = 0

    @classmethod
    def parse(cls, text: str) -> RunSlot:
        """Parse `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:MM[:SS][Z]` (as EventBridge sends) and floor it to the hour.

        ASCII digits only, a UTC offset of zero only, years MIN_YEAR..MAX_YEAR; an empty text is refused.
        """
        match = _SLOT_RE.match(text.strip(" ")) if isinstance(text, str) else None
        if not match:
            raise RunSlotError(f"run slot {text!r} is not of the form YYYY-MM-DDTHH (UTC), e.g. 2026-11-22T14")
        year, month, day, hour = (int(g) for g in match.groups()[:4])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise RunSlotError(f"run slot {text!r} is not a real date and hour: year outside {MIN_YEAR}-{MAX_YEAR}")
        try:
            start = datetime(year, month, day, hour, tzinfo=timezone.utc)
        except ValueError as exc:
            raise RunSlotError(f"run slot {text!r} is not a real date and hour: {exc}") from None
        return cls(start)

    @classmethod
    def from_datetime(cls, moment: datetime) -> RunSlot:
        """The slot holding `moment` (naive datetimes are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
        return cls(moment.replace(minute=0, second=0, microsecond=0))

    @classmethod
    def now(cls) -> RunSlot:
        """The current hour, UTC."""
        return cls.from_datetime(datetime.now(timezone.utc))

    def __str__(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H")

    @property
    def partition_values(self) -> dict[str, str]:
        """Zero-padded partition values, e.g. tech_month=2026-01, tech_hour=04."""
        s = self.start
        return {
            "tech_year": f"{s:%Y}",
            "tech_month": f"{s:%Y-%m}",
            "tech_day": f"{s:%Y-%m-%d}",
            "tech_hour": f"{s:%H}",
        }

    @property
    def partition_path(self) -> str:
        """`tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14`."""
        return "/".join(f"{k}={v}" for k, v in self.partition_values.items())

    @property
    def compact(self) -> str:
        """`20261122140000`, the timestamp in raw file names."""
        return self.start.strftime("%Y%m%d%H%M%S")


def join(root: str, *parts: str) -> str:
    """Join a data root (a local path or an s3:// URI) with relative parts using '/'."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts if p)])


def raw_flights_dir(root: str, slot: RunSlot) -> str:
    """The raw flights partition of a slot."""
    return join(root, RAW_FLIGHTS, slot.partition_path)


def raw_flights_file(root: str, slot: RunSlot, run_id: str) -> str:
    """One run's capture of a slot: `raw/flights/<partitions>/<run_id>.csv`, never overwritten by another run."""
    return join(raw_flights_dir(root, slot), f"{run_id}.csv")


def raw_reference_dir(root: str, name: str, day: str) -> str:
    """A reference snapshot (`airports`, `airlines`) for one day `YYYY-MM-DD`."""
    return join(root, RAW_REFERENCE, name, f"tech_day={day}")


def manifest_path(root: str, run_id: str) -> str:
    """`runs/<run_id>.json`."""
    return join(root, RUNS, f"{run_id}.json")
