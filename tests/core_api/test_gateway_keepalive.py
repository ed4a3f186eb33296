"""The gateway under a rolling update: an upstream closes a pooled keep-alive connection
just as the gateway sends the next request on it.

`OneShotUpstream` is a raw socket server on 127.0.0.1 that answers the first request of
every connection with keep-alive headers, keeps the connection open (so the gateway's
pool reuses it), and closes it, without a byte of answer, the moment a second request
arrives on it: the race of a pod that shuts down between two requests, made
deterministic. In `reset` mode it closes with a TCP reset instead of a FIN.
Idempotent methods are retried once on a fresh connection; POST and PATCH never are.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from types import TracebackType

import httpx
import pytest

from tests._emulator import Emulator, manifest, unique_id

PLUGINS = "/api/v1/plugins"
_SOCKET_TIMEOUT_SECONDS = 30.0
_MAX_HEAD_BYTES = 64 * 1024


class OneShotUpstream:
    """Answers one request per connection, then closes the connection on the next one."""

    def __init__(self, mode: str = "close") -> None:
        self.mode = mode
        self.answered: list[tuple[str, str]] = []
        self.dropped: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="one-shot-upstream", daemon=True)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> OneShotUpstream:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        self._thread.join(timeout=_SOCKET_TIMEOUT_SECONDS)
        self._listener.close()

    def gateway_requests(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(answered, dropped) requests other than the Core API's health probes."""
        with self._lock:
            keep = [(m, p) for m, p in self.answered if not p.startswith("/health/")]
            gone = [(m, p) for m, p in self.dropped if not p.startswith("/health/")]
        return keep, gone

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(_SOCKET_TIMEOUT_SECONDS)
        pending = b""
        first = True
        try:
            while True:
                request, pending = _read_request(conn, pending)
                if request is None:
                    return
                if not first:
                    with self._lock:
                        self.dropped.append(request)
                    if self.mode == "reset":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                first = False
                method, _ = request
                body = b'{"status":"ok"}'
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n"
                )
                with self._lock:  # recorded before the answer leaves, so the client never sees it first
                    self.answered.append(request)
                conn.sendall(head.encode() + (b"" if method == "HEAD" else body))
        except OSError:
            return
        finally:
            conn.close()


def _read_request(conn: socket.socket, pending: bytes) -> tuple[tuple[str, str] | None, bytes]:
    """One request (method, path) off the connection, and the bytes after it; None at EOF."""
    while b"\r\n\r\n" not in pending:
        chunk = conn.recv(65536)
        if not chunk or len(pending) > _MAX_HEAD_BYTES:
            return None, b""
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return (method, path), rest[length:]


@pytest.fixture(params=["close", "reset"])
def upstream(request: pytest.FixtureRequest) -> Iterator[OneShotUpstream]:
    with OneShotUpstream(request.param) as server:
        yield server


def _active_plugin(emulator: Emulator, upstream: OneShotUpstream) -> str:
    plugin_id = unique_id()
    with emulator.client() as client:
        registered = client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "api", "endpoints": [upstream.url]},
        )
        assert registered.status_code == 201, registered.text
        assert client.post(PLUGINS, json=manifest(plugin_id)).status_code == 201
        installed = client.post(f"{PLUGINS}/{plugin_id}/install")
        assert installed.status_code == 200, installed.text
        assert client.post(f"{PLUGINS}/{plugin_id}/enable").json()["state"] == "ACTIVE"
    return plugin_id


def test_idempotent_requests_are_retried_on_a_fresh_connection(emulator: Emulator, upstream: OneShotUpstream) -> None:
    plugin_id = _active_plugin(emulator, upstream)
    methods = ["GET", "GET", "HEAD", "GET", "OPTIONS", "PUT", "GET", "DELETE", "GET", "GET"]
    sent = [(method, f"/items/{index}") for index, method in enumerate(methods)]
    statuses = []
    with httpx.Client(base_url=f"{emulator.url}/api/plugins/{plugin_id}", timeout=30.0) as client:
        for method, path in sent:
            response = client.request(method, path, content=b'{"n": 1}' if method == "PUT" else None)
            statuses.append((method, path, response.status_code))
    answered, dropped = upstream.gateway_requests()
    assert statuses == [(method, path, 200) for method, path in sent]
    assert dropped, "the upstream closed at least one reused connection, so the retry was exercised"
    assert set(dropped) <= set(answered), "each request the upstream dropped was answered on a fresh connection"
    assert sorted(answered) == sorted(sent), "every request reached the upstream's answer exactly once"


def test_post_and_patch_are_never_retried(emulator: Emulator, upstream: OneShotUpstream) -> None:
    plugin_id = _active_plugin(emulator, upstream)
    sent = [(method, f"/orders/{index}") for index, method in enumerate(["POST", "PATCH", "POST", "PATCH", "POST"])]
    failed: list[tuple[str, str]] = []
    with httpx.Client(base_url=f"{emulator.url}/api/plugins/{plugin_id}", timeout=30.0) as client:
        for method, path in sent:
            response = client.request(method, path, json={"order": path})
            if response.status_code != 200:
                assert response.status_code == 502, response.text
                assert response.json()["error"] == "bad_gateway"
                failed.append((method, path))
    answered, dropped = upstream.gateway_requests()
    assert failed, "a write on a reused connection the upstream closed reaches the client as 502"
    assert failed == dropped, "exactly the writes the upstream dropped failed"
    assert sorted(answered + dropped) == sorted(sent), "no write reached the upstream twice"
