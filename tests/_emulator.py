"""Test helpers: the Core API emulator as a real subprocess, and a tiny fake plugin.

Import the fixtures into a conftest (`from tests._emulator import emulator, ...`)
or use the classes directly (the e2e tests start the emulator the same way):

- `start_emulator(db_path, token)` runs `python -m plexica_infra.core_api --port 0`
  on 127.0.0.1 with the token in PLEXICA_CORE_API_TOKEN (never on the command
  line), reads the `listening on <url>` line it prints, and waits for
  `/_emulator/health`. `Emulator.restart()` brings it back on the same port and
  database.
- `FakePlugin` is a threaded http.server on 127.0.0.1 that answers the guide's
  health endpoints with configurable statuses, delays and failure counts, and
  echoes every other request (for gateway tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
#: Generous: two cores may be busy with someone else's Go build.
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
TOKEN_ENV_VAR = "PLEXICA_CORE_API_TOKEN"
CLIENT_SECRET_ENV_VAR = "PLEXICA_CORE_API_CLIENT_SECRET"
#: The client the emulators of the tests accept for the client-credentials grant.
TEST_CLIENT_ID = "plexica-infra-tests"
TOKEN_PATH = "/realms/master/protocol/openid-connect/token"


def new_token() -> str:
    return f"test-token-{uuid.uuid4().hex}"


def unique_id(prefix: str = "p") -> str:
    """A fresh plugin id (a DNS label), so tests sharing an emulator never collide."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def manifest(plugin_id: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A small plugin manifest the Core API accepts."""
    return {"id": plugin_id, "name": f"{plugin_id} plugin", "version": version, **extra}


@dataclass
class Emulator:
    """A running emulator subprocess."""

    url: str
    token: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    extra_args: list[str] = field(default_factory=list)
    dialect: str = "guide"
    client_secret: str | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    @property
    def v1(self) -> bool:
        return self.dialect == "plexica-v1"

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client with the admin token (pass token="" for none)."""
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        with self.client() as client:
            response = client.post("/_emulator/faults", json=faults)
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

    def clear_faults(self) -> None:
        with self.client() as client:
            client.delete("/_emulator/faults").raise_for_status()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def restart(self, sig: int = signal.SIGTERM) -> Emulator:
        """Stop this process and start a new one on the same port and database (in place)."""
        self.stop(sig)
        fresh = start_emulator(
            self.db_path,
            self.token,
            port=self.port,
            log_path=self.log_path,
            extra_args=self.extra_args,
            dialect=self.dialect,
            client_secret=self.client_secret,
        )
        self.process, self.url = fresh.process, fresh.url
        return self


def emulator_command(db_path: Path | str, *, port: int = 0, extra_args: list[str] | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "plexica_infra.core_api",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db_path),
        *(extra_args or []),
    ]


def emulator_env(token: str | None, client_secret: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in (TOKEN_ENV_VAR, CLIENT_SECRET_ENV_VAR)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if token is not None:
        env[TOKEN_ENV_VAR] = token
    if client_secret is not None:
        env[CLIENT_SECRET_ENV_VAR] = client_secret
    return env


def start_emulator(
    db_path: Path,
    token: str,
    *,
    port: int = 0,
    log_path: Path | None = None,
    extra_args: list[str] | None = None,
    dialect: str = "guide",
    client_secret: str | None = None,
    token_ttl: int | None = None,
) -> Emulator:
    """Start the emulator and wait until it answers; raises with its log if it does not.

    `dialect` is the admin API it serves; `client_secret` enables the token endpoint
    for TEST_CLIENT_ID (tokens living `token_ttl` seconds).
    """
    log_path = log_path or db_path.with_suffix(".log")
    args = list(extra_args or [])
    if dialect != "guide" and "--dialect" not in args:
        args += ["--dialect", dialect]
    if client_secret is not None and "--client-id" not in args:
        args += ["--client-id", TEST_CLIENT_ID]
    if token_ttl is not None and "--token-ttl" not in args:
        args += ["--token-ttl", str(token_ttl)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            emulator_command(db_path, port=port, extra_args=args),
            cwd=REPO,
            env=emulator_env(token, client_secret),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    assert process.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS

    def fail(reason: str) -> AssertionError:
        if process.poll() is None:
            process.kill()
            process.wait()
        return AssertionError(f"emulator {reason}; its log:\n{log_path.read_text(errors='replace')}")

    try:
        line = lines.get(timeout=STARTUP_TIMEOUT_SECONDS).decode().strip()
    except queue.Empty:
        raise fail(f"printed no 'listening on' line in {STARTUP_TIMEOUT_SECONDS} s") from None
    if not line.startswith("listening on "):
        raise fail(f"printed {line!r} instead of 'listening on <url>'")
    url = line.removeprefix("listening on ")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise fail(f"exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/_emulator/health", timeout=2.0).status_code == 200:
                return Emulator(url, token, db_path, log_path, process, args, dialect, client_secret)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise fail(f"did not answer /_emulator/health in {STARTUP_TIMEOUT_SECONDS} s")


# A fake plugin ------------------------------------------------------------------------------------


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


# Fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for a whole session; tests use `unique_id()` plugin ids and reset faults."""
    process = start_emulator(tmp_path_factory.mktemp("emulator") / "core-api.db", new_token())
    yield process
    process.stop()


@pytest.fixture
def clean_faults(emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator, with its fault plan cleared before and after the test."""
    emulator.clear_faults()
    yield emulator
    emulator.clear_faults()


@pytest.fixture
def emulator_factory(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """Start private emulators (each with its own database); all are stopped afterwards."""
    started: list[Emulator] = []

    def start(token: str | None = None, db_path: Path | None = None, **kwargs: Any) -> Emulator:
        db = db_path or tmp_path / f"core-api-{len(started)}.db"
        instance = start_emulator(db, token or new_token(), **kwargs)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def fake_plugin() -> Iterator[Callable[..., FakePlugin]]:
    """Start fake plugin instances; all are shut down afterwards."""
    started: list[FakePlugin] = []

    def start(name: str = "plugin", **kwargs: Any) -> FakePlugin:
        plugin = FakePlugin(name, **kwargs)
        started.append(plugin)
        return plugin

    yield start
    for plugin in started:
        plugin.close()
