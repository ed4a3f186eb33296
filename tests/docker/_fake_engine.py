"""A fake Docker engine for the rollback tests: in-memory containers behind the Engine
API's inspect, remove and ping routes, served over a real unix socket or TCP port."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

__all__ = ["Engine", "serve_tcp", "serve_unix"]


@dataclass
class Engine:
    """In-memory containers and the requests the engine received."""

    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_with: int | None = None

    def add(self, name: str, labels: dict[str, str], container_id: str = "c0ffee" * 10 + "abcd") -> str:
        self.containers[container_id] = {"Id": container_id, "Name": f"/{name}", "Config": {"Labels": labels}}
        return container_id

    def find(self, key: str) -> dict[str, Any] | None:
        for container in self.containers.values():
            if key in (container["Id"], container["Name"].lstrip("/")):
                return container
        return None


def _handler(engine: Engine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _container(self) -> tuple[str, str]:
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            assert parts[0] == "containers", self.path
            return unquote(parts[1]), url.query

        def _route(self) -> None:
            """The client asks for /v<api>/...: keep the unversioned path, as the tests expect it."""
            url = urlparse(self.path)
            parts = url.path.split("/", 2)
            if len(parts) > 2 and parts[1].startswith("v1."):
                self.path = "/" + parts[2] + (f"?{url.query}" if url.query else "")

        def do_GET(self) -> None:
            self._route()
            if self.path == "/version":  # the client's API-version negotiation
                return self._reply(200, {"ApiVersion": "1.41", "Version": "20.10.24"})
            engine.requests.append(("GET", self.path))
            if engine.fail_with:
                return self._reply(engine.fail_with, {"message": "engine is unhappy"})
            key, _ = self._container()
            found = engine.find(key)
            if found is None:
                return self._reply(404, {"message": f"No such container: {key}"})
            return self._reply(200, found)

        def do_DELETE(self) -> None:
            self._route()
            engine.requests.append(("DELETE", self.path))
            key, query = self._container()
            assert parse_qs(query)["force"] == ["True"] and parse_qs(query)["v"] == ["True"], query
            found = engine.find(key)
            if found is None:
                return self._reply(404, {"message": f"No such container: {key}"})
            del engine.containers[found["Id"]]
            return self._reply(204)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


@contextmanager
def _serve(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_unix(engine: Engine, path: Path) -> Iterator[str]:
    """`engine` on a unix socket at `path`; yields its DOCKER_HOST."""
    with _serve(_UnixServer(str(path), _handler(engine))):
        yield f"unix://{path}"


@contextmanager
def serve_tcp(engine: Engine) -> Iterator[str]:
    """`engine` on an ephemeral 127.0.0.1 port; yields its DOCKER_HOST."""
    server = _TcpServer(("127.0.0.1", 0), _handler(engine))
    with _serve(server):
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
