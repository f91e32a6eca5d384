"""Structured logs: one JSON object per line (stdout unless the command line says otherwise), each with the run id."""

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


class _CurrentStdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stdout` as it is when a record is written, not as it was when the handler was made (as
    logging's own last-resort handler does for stderr): stdout replaced for a while (a caller's redirection, a
    test's capture, since closed) never takes the job's later lines with it, nor fails them."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)  # StreamHandler's own would fix the stream now

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stdout


def get_logger() -> logging.Logger:
    """The job's logger; unless `use_handlers` chose others, JSON lines on stdout (as the EMR step logs them)."""
    logger = logging.getLogger(_LOGGER_NAME)
    if not logger.handlers:
        handler = _CurrentStdout()
        handler.setFormatter(JsonLinesFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def use_handlers(*handlers: logging.Handler) -> None:
    """Send the job's events to exactly these handlers (the console, a JSON file ...) instead of stdout."""
    logger = get_logger()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)


def json_stream_handler(stream: Any = None) -> logging.Handler:
    """JSON lines on a stream (by default stdout, as it is at each record)."""
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStdout()
    handler.setFormatter(JsonLinesFormatter())
    return handler


def current_run_id() -> str | None:
    """The run id bound in this context, if any."""
    return _run_id.get()


def bind_run_id(run_id: str | None) -> None:
    """Attach a run id to every log line that follows in this context."""
    _run_id.set(run_id)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with structured fields."""
    get_logger().log(level, event, extra={"fields": fields})


class _ToJobLog(logging.Handler):
    """Hands a library's records to the job's logger, so they land where the job's own events do."""

    def emit(self, record: logging.LogRecord) -> None:
        record.fields = {"logger": record.name, **getattr(record, "fields", {})}
        get_logger().handle(record)


def route_to_job_log(name: str, level: int = logging.INFO) -> None:
    """Send a library's logger (e.g. `fr24sdk`) through the job's handlers only: JSON log, never bare stderr lines.

    Without a handler of its own, Python's last-resort handler prints a library's warnings and errors on stderr
    beside the command's one-line error. Records below `level` are dropped (an SDK may log request headers, a
    token among them, at DEBUG).
    """
    logger = logging.getLogger(name)
    if not any(isinstance(h, _ToJobLog) for h in logger.handlers):
        logger.addHandler(_ToJobLog())
    logger.propagate = False
    if logger.getEffectiveLevel() < level:
        logger.setLevel(level)
