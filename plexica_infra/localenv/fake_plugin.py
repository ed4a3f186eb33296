"""A stand-in plugin instance for emulator tests and benchmarks.

`FakePlugin` is a threaded http.server on 127.0.0.1 that answers the guide's health
endpoints with configurable statuses, delays and failure counts, and echoes every
other request (for gateway tests and the Core API benchmark).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakePlugin", "ProbeBehaviour"]


@dataclass
class ProbeBehaviour:
    """How one health path answers: `fail_first` failures with `fail_status`, then `status`."""

    status: int = 200
    delay_ms: float = 0.0
    fail_first: int = 0
    fail_status: int = 503
    calls: int = 0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (e.g. a killed emulator) is expected in these tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakePlugin:
    """A plugin instance on 127.0.0.1: health paths as configured, every other path echoed."""

    def __init__(self, name: str = "plugin", live_path: str = "/health/live", ready_path: str = "/health/ready"):
        self.name = name
        self.live_path = live_path
        self.ready_path = ready_path
        self.live = ProbeBehaviour()
        self.ready = ProbeBehaviour()
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        plugin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY, Nagle's
            # algorithm and delayed ACKs would add ~40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with plugin._lock:
                    plugin._connections.add(self.connection)

            def finish(self) -> None:
                with plugin._lock:
                    plugin._connections.discard(self.connection)
                super().finish()

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = plugin.answer(self.command, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path))
            behaviour = {self.live_path: self.live, self.ready_path: self.ready}.get(path.split("?")[0])
            if behaviour is None:
                return 200, {"plugin": self.name, "method": method, "path": path, "body": body.decode()}
            behaviour.calls += 1
            failing = behaviour.calls <= behaviour.fail_first
            status = behaviour.fail_status if failing else behaviour.status
            delay = behaviour.delay_ms
        if delay:
            time.sleep(delay / 1000)
        word = "ok" if status == 200 else "not_ready"
        return status, {"status": word, "plugin": self.name, "checks": {"database": word}}

    def close(self) -> None:
        """Stop like a killed container: stop listening and cut kept-alive connections."""
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
