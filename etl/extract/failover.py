"""Failover across sources: try them in a given order, record every attempt, and say which one served the run.

A run tries `config.source_order()` in turn. A source is unusable when the source-health gate says so
(SourceHealthError) or when it cannot be set up at all (SourceUnavailableError, e.g. its token secret is empty);
the next one is then tried. Every attempt is recorded with its reason; the first usable capture serves the run.
Which feed a source is read through, its settings and its token live with the sources themselves (etl.extract.sources).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from etl.core.errors import SourceHealthError, SourceUnavailableError
from etl.core.log import log_event

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Failover(Generic[T]):
    """The outcome of trying sources in order: what served the run and every attempt."""

    served: str
    result: T
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """JSON-ready, for the manifest's extraction entry."""
        return {"order": [a["source"] for a in self.attempts], "served": self.served, "attempts": self.attempts}


def run_with_failover(
    order: tuple[str, ...], attempt: Callable[[str], tuple[T, dict[str, Any]]], *, what: str = "source"
) -> Failover[T]:
    """Call `attempt(name)` for each source until one is usable; record each attempt's outcome and reason.

    `attempt` returns its result and a few figures for the record (tiles, requests, ...) or raises
    SourceHealthError / SourceUnavailableError when the source is unusable. With one source its error is raised
    as it is; when every source of a list is unusable, a SourceHealthError naming each reason.
    """
    attempts: list[dict[str, Any]] = []
    errors: list[Exception] = []
    for name in order:
        started = time.perf_counter()
        try:
            result, figures = attempt(name)
        except (SourceHealthError, SourceUnavailableError) as exc:
            reason = str(exc).splitlines()[0]
            attempts.append(
                {
                    "source": name,
                    "outcome": "unusable",
                    "reason": reason,
                    "error": type(exc).__name__,
                    "wall_s": round(time.perf_counter() - started, 3),
                    **getattr(exc, "figures", {}),
                }
            )
            errors.append(exc)
            log_event("source_unusable", logging.WARNING, source=name, reason=reason)
            continue
        wall_s = round(time.perf_counter() - started, 3)
        attempts.append({"source": name, "outcome": "served", "wall_s": wall_s, **figures})
        if len(attempts) > 1:
            log_event("source_failover", served=name, unusable=[a["source"] for a in attempts[:-1]])
        return Failover(name, result, attempts)
    record = {"order": [a["source"] for a in attempts], "served": None, "attempts": attempts}
    if len(errors) == 1:
        errors[0].extraction = {"sources": record, **getattr(errors[0], "figures", {})}  # type: ignore[attr-defined]
        raise errors[0]
    reasons = "; ".join(f"{a['source']}: {a['reason'].removesuffix('; nothing written')}" for a in attempts)
    error = SourceHealthError(f"no {what} of {list(order)} was usable ({reasons}); nothing written")
    error.extraction = {"sources": record}  # type: ignore[attr-defined]
    raise error


def failed_extraction(exc: BaseException) -> dict[str, Any]:
    """The extraction figures a failed capture still has, for the failed run's manifest (`extraction`).

    `{"sources": {order, served: None, attempts: [{source, outcome, reason, tiles, requests, api_usage ...}]}}`,
    plus, with a single source, that attempt's figures at the top (requests, api_usage with its errors by status),
    as a served run's manifest has them; {} for an error raised before any source was tried.
    """
    extraction = getattr(exc, "extraction", None)
    return dict(extraction) if isinstance(extraction, dict) else {}
