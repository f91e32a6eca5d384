"""The job's log lines."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from etl.core.log import get_logger, json_stream_handler, log_event


def test_the_default_lines_go_to_stdout_as_it_is_when_each_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("etl")
    monkeypatch.setattr(logger, "handlers", [])  # as in a new process: get_logger makes its default handler
    first = io.StringIO()
    monkeypatch.setattr(sys, "stdout", first)
    get_logger()
    first.close()  # a capture or a redirection that has ended

    second = io.StringIO()
    monkeypatch.setattr(sys, "stdout", second)
    log_event("after_the_redirection", rows=3)

    line = json.loads(second.getvalue())
    assert (line["event"], line["rows"]) == ("after_the_redirection", 3)


def test_a_handler_given_a_stream_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = io.StringIO()
    handler = json_stream_handler(kept)
    monkeypatch.setattr(sys, "stdout", io.StringIO())

    handler.handle(logging.LogRecord("etl", logging.INFO, __file__, 1, "to_the_given_stream", None, None))

    assert json.loads(kept.getvalue())["event"] == "to_the_given_stream"
