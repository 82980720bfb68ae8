"""A real HTTP server on 127.0.0.1 that records what it receives (for client and probe tests)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Loopback:
    port: int
    requests: list[Recorded] = field(default_factory=list)
    redirect_to: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout test) is gone before the answer: expected,
        # and not worth a traceback in the test log.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def loopback_server() -> Iterator[Loopback]:
    state = Loopback(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(
                Recorded("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            if self.path.startswith("/redirect-same"):
                self.send_response(302)
                self.send_header("Location", "/landed")
                self.end_headers()
                return
            if self.path.startswith("/redirect-away"):
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            if self.path.startswith("/slow"):
                time.sleep(1.5)
            status = 200
            credentials = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
            if self.path.startswith("/unauthorized"):
                status = 401
            elif self.path.startswith("/keyed") and not any(
                self.headers.get(name) for name in credentials
            ):
                status = 401  # an endpoint that checks for a key (most providers' listings)
            elif self.path.startswith("/missing"):
                status = 404
            elif self.path.startswith("/broken"):
                status = 500
            body = json.dumps({"data": [], "path": self.path}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
