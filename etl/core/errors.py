"""Named errors: each carries a one-line message that says what is wrong and, where it can, what to do."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an error's message ('' when it has none): what a one-line error or a log shows."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


class JobError(Exception):
    """A run that cannot go on; nothing of it is published."""


class SourceHealthError(JobError):
    """The feed is unusable: nothing returned, most tiles failed, or the data is stale."""


class SourceUnavailableError(JobError):
    """A source that cannot be set up for a run (e.g. its API token secret has no value yet)."""


class SnapshotFormatError(JobError):
    """A recorded capture that cannot be read (unknown format, missing required columns)."""


class ReferenceDataError(JobError):
    """Reference data (airports, airlines, aircraft types) that cannot be loaded."""


class SourceRefusedError(SourceHealthError):
    """The source refused this client several answers in a row (blocked, challenged, unauthorized): unusable at once."""


class AccessRefusedError(Exception):
    """A source's answer saying this client may not have the data (401, a 403 of a plan): no retry will change it.

    Raised by a feed for one request; the extractor's circuit breaker counts it with blocked answers.
    """
