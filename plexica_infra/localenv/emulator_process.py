"""The Core API emulator as a child process on an ephemeral port, for tests and benchmarks.

`start_emulator(db_path, token)` runs `python -m plexica_infra.core_api --port 0` on
127.0.0.1 with the token in PLEXICA_CORE_API_TOKEN (never on the command line), reads the
`listening on <url>` line it prints, and waits for `/_emulator/health`.
`Emulator.restart()` brings it back on the same port and database. `make up`'s
long-lived emulator (`localenv.emulator`) starts the same command in the background.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from plexica_infra.contract import CLIENT_SECRET_ENV_VAR, TOKEN_ENV_VAR
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.toolchain import REPO

__all__ = [
    "STARTUP_TIMEOUT_SECONDS",
    "STOP_TIMEOUT_SECONDS",
    "TEST_CLIENT_ID",
    "TOKEN_PATH",
    "Emulator",
    "emulator_command",
    "emulator_env",
    "start_emulator",
]

#: Generous: two cores may be busy with someone else's Go build.
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
#: The client the emulators of tests and benchmarks accept for the client-credentials grant.
TEST_CLIENT_ID = "plexica-infra-tests"
TOKEN_PATH = "/realms/master/protocol/openid-connect/token"


@dataclass
class Emulator:
    """A running emulator child process (stopped with the test, benchmark or run that started it)."""

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


def emulator_command(
    db_path: Path | str, *, port: int = 0, extra_args: list[str] | None = None, host: str = "127.0.0.1"
) -> list[str]:
    """`python -m plexica_infra.core_api ...`: how every emulator is started (the token goes in
    the environment, see `emulator_env`, never on the command line)."""
    return [
        sys.executable,
        "-m",
        "plexica_infra.core_api",
        "--host",
        host,
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

    def fail(reason: str) -> LocalEnvError:
        if process.poll() is None:
            process.kill()
            process.wait()
        return LocalEnvError(f"emulator {reason}; its log:\n{log_path.read_text(errors='replace')}")

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
