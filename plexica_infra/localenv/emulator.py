"""Run the Core API emulator (`python -m plexica_infra.core_api`) in the background.

Files under `<state_dir>/emulator/`:

- `emulator.pid`   pid of the emulator process
- `emulator.json`  what we started (pid, start time, host, port, url, db, sha256 of the token)
- `emulator.log`   its stdout + stderr (the emulator never logs the token)
- `core-api.db`    default SQLite database (state survives restarts)

The token is handed over in the environment variable PLEXICA_CORE_API_TOKEN,
never on the command line, so `ps` cannot show it.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from plexica_infra.core_api import TOKEN_ENV_VAR
from plexica_infra.localenv._proc import (
    Progress,
    default_progress,
    file_lock,
    read_json,
    recorded_process,
    spawn_recorded,
    stop_processes,
    tail,
)
from plexica_infra.localenv.emulator_process import emulator_command, emulator_env
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.toolchain import REPO

__all__ = [
    "DEFAULT_EMULATOR_PORT",
    "TOKEN_ENV_VAR",
    "EmulatorPaths",
    "emulator_paths",
    "emulator_status",
    "start_emulator",
    "stop_emulator",
]

#: Port of the local stack's Core API (Pulumi.local.yaml: plexica:coreApiUrl).
DEFAULT_EMULATOR_PORT = 4010
_PROBE_PATH = "/api/v1/plugins"


@dataclass(frozen=True)
class EmulatorPaths:
    root: Path
    pidfile: Path
    record: Path
    log: Path
    db: Path
    lock: Path


def emulator_paths(state_dir: Path) -> EmulatorPaths:
    root = Path(state_dir).resolve() / "emulator"
    return EmulatorPaths(
        root=root,
        pidfile=root / "emulator.pid",
        record=root / "emulator.json",
        log=root / "emulator.log",
        db=root / "core-api.db",
        lock=root / ".lock",
    )


def _base_url(host: str, port: int) -> str:
    connect = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    if ":" in connect:
        connect = f"[{connect}]"
    return f"http://{connect}:{port}"


def _answers(url: str, timeout: float = 1.0) -> bool:
    """The Core API answers the plugin list with 200 (token) or 401 (no token)."""
    try:
        resp = httpx.get(url + _PROBE_PATH, timeout=timeout, trust_env=False)
    except (httpx.HTTPError, OSError):
        return False
    return resp.status_code in (200, 401)


def _port_taken(host: str, port: int) -> bool:
    url = _base_url(host, port)
    addr = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((addr, port)) == 0


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live_record(paths: EmulatorPaths) -> dict[str, Any] | None:
    record = read_json(paths.record)
    return record if recorded_process(record) is not None else None


def _stop(paths: EmulatorPaths, record: dict[str, Any] | None, progress: Progress, timeout: float) -> bool:
    stopped = False
    process = recorded_process(record)
    if process is not None:
        progress(f"stopping Core API emulator pid {process.pid}")
        if not stop_processes([process], timeout=timeout):
            raise LocalEnvError(f"Core API emulator pid {process.pid} did not exit")
        stopped = True
    paths.record.unlink(missing_ok=True)
    paths.pidfile.unlink(missing_ok=True)
    return stopped


def start_emulator(
    state_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_EMULATOR_PORT,
    token: str,
    db: Path | None = None,
    command: Sequence[str] | None = None,
    timeout: float = 30.0,
    progress: Progress | None = None,
    also_listen: Sequence[str] = (),
) -> str:
    """Start the Core API emulator (or reuse the one already running) and return its base URL.

    `also_listen`: more addresses on the same port, e.g. the Docker bridge address that
    plugin containers reach as `host-gateway`.

    Reuses a running emulator we started with the same host, port and token;
    restarts ours if any of those changed. Fails if another process owns the port.
    """
    progress = progress or default_progress
    if not token:
        raise LocalEnvError(f"the Core API emulator needs a token (set {TOKEN_ENV_VAR})")
    if not 0 < port < 65536:
        raise LocalEnvError(f"emulator port {port} is not in 1-65535")
    paths = emulator_paths(state_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    url = _base_url(host, port)
    db_path = Path(db).resolve() if db is not None else paths.db

    with file_lock(paths.lock, timeout=120, what="emulator start/stop"):
        record = _live_record(paths)
        if record is not None:
            same = (
                record.get("host") == host
                and record.get("port") == port
                and record.get("token_sha256") == _token_digest(token)
                and record.get("also_listen", []) == list(also_listen)
            )
            if same and _answers(url):
                progress(f"Core API emulator already running at {url} (pid {record['pid']})")
                return url
            progress("Core API emulator running with other settings (or not answering); restarting it")
            _stop(paths, record, progress, timeout=15)
        else:
            paths.record.unlink(missing_ok=True)

        if _port_taken(host, port):
            raise LocalEnvError(
                f"port {port} on {host} is already in use by a process plexica did not start; "
                "choose another port or stop that process"
            )

        # The same command and environment as every emulator (emulator_process); a stand-in
        # `command` may use the placeholders {python} {host} {port} {db}.
        if command is None:
            argv = emulator_command(db_path, port=port, host=host)
        else:
            argv = [part.format(python=sys.executable, host=host, port=port, db=str(db_path)) for part in command]
        argv += [f"--also-listen={address}" for address in also_listen]
        env = {**emulator_env(token), "PYTHONUNBUFFERED": "1"}
        # Run from the repository root so `-m plexica_infra...` resolves without installation.
        progress(f"starting Core API emulator at {url} (log {paths.log})")
        started = time.monotonic()
        proc = spawn_recorded(
            argv,
            env=env,
            cwd=REPO,
            log=paths.log,
            record=paths.record,
            pidfile=paths.pidfile,
            fields={
                "host": host,
                "port": port,
                "url": url,
                "db": str(db_path),
                "token_sha256": _token_digest(token),
                "also_listen": list(also_listen),
            },
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(url):
                progress(f"Core API emulator ready in {time.monotonic() - started:.1f}s (pid {proc.pid})")
                return url
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        code = proc.poll()
        if code is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        paths.record.unlink(missing_ok=True)
        paths.pidfile.unlink(missing_ok=True)
        state = f"exited with status {code}" if code is not None else f"did not answer within {timeout:.0f}s"
        raise LocalEnvError(f"Core API emulator {state}; last log lines:\n{tail(paths.log)}")


def bridge_address(interface: str = "docker0") -> str | None:
    """The IPv4 address of the Docker bridge on this host: what `host-gateway` resolves to
    inside containers (Docker >= 20.10). None when there is no such interface."""
    import fcntl
    import socket
    import struct

    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), siocgifaddr, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def stop_emulator(state_dir: Path, *, progress: Progress | None = None, timeout: float = 15.0) -> bool:
    """Stop the emulator we started for `state_dir`; False if none was running."""
    progress = progress or default_progress
    paths = emulator_paths(state_dir)
    if not paths.root.exists():
        progress("no Core API emulator started by plexica; nothing to stop")
        return False
    with file_lock(paths.lock, timeout=120, what="emulator start/stop"):
        record = _live_record(paths)
        if record is None:
            paths.record.unlink(missing_ok=True)
            paths.pidfile.unlink(missing_ok=True)
            progress("no Core API emulator started by plexica is running; nothing to stop")
            return False
        return _stop(paths, record, progress, timeout)


def emulator_status(state_dir: Path) -> dict[str, Any]:
    paths = emulator_paths(state_dir)
    record = _live_record(paths)
    status: dict[str, Any] = {"running": False, "url": None, "pid": None, "log": str(paths.log)}
    if record is not None:
        url = str(record.get("url"))
        status.update(
            running=True,
            pid=record["pid"],
            url=url,
            answering=_answers(url),
            db=record.get("db"),
        )
    return status
