"""What the local servers share: a free port on 127.0.0.1, quiet handlers, and serving from a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 and a port the system picks; `base_url` says where it listens."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps no access log and answers with a whole body at once."""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read results, not access logs
        return

    def send_body(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer `status` with `body` (JSON unless `headers` name another Content-Type) and its length."""
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


S = TypeVar("S", bound=LocalServer)


@contextmanager
def serving(server: S, *, name: str) -> Iterator[S]:
    """Run `server` in a daemon thread named `name` for the duration of the block, then shut it down and close it."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
