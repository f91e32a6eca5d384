"""Structured logs: one JSON object per line on stderr, each carrying the run id."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

_run_id: ContextVar[str | None] = ContextVar("run_id", default=None)
_LOGGER_NAME = "etl"


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, event, run_id and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "run_id": getattr(record, "run_id", None) or _run_id.get(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def get_logger() -> logging.Logger:
    """The job's logger, writing JSON lines to stderr (configured once)."""
    logger = logging.getLogger(_LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonLinesFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLinesFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def bind_run_id(run_id: str | None) -> None:
    """Attach a run id to every log line that follows in this context."""
    _run_id.set(run_id)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with structured fields."""
    get_logger().log(level, event, extra={"fields": fields})
