"""Process, pidfile and lock helpers shared by the local-environment managers."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "Progress",
    "default_progress",
    "file_lock",
    "kill_and_wait",
    "pid_alive",
    "proc_cmdline",
    "proc_start_ticks",
    "read_json",
    "same_process",
    "spawn_recorded",
    "tail",
    "wait_exit",
    "write_json",
]

Progress = Callable[[str], None]


def default_progress(message: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable (e.g. DOCKER_HOST)."""
    print(f"[localenv] {message}", file=sys.stderr, flush=True)


def _reap(pid: int) -> None:
    """Reap `pid` if it is our exited child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _proc_stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return raw[raw.rfind(")") + 2 :].split()


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _proc_stat_fields(pid)
    return not (fields is not None and fields[0] in ("Z", "X"))


def proc_start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot (guards against pid reuse)."""
    fields = _proc_stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])
    except ValueError:
        return None


def proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def same_process(pid: int, start_ticks: int | None) -> bool:
    """`pid` is alive and is the very process we recorded (not a reused pid)."""
    if not pid_alive(pid):
        return False
    return start_ticks is None or proc_start_ticks(pid) == start_ticks


def wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def kill_and_wait(pid: int, *, timeout: float, sig: int = signal.SIGTERM) -> bool:
    """Send `sig`, wait up to `timeout`, then SIGKILL (and wait 5 s). True if it exited."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    if wait_exit(pid, timeout):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return wait_exit(pid, 5.0)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def tail(path: Path, lines: int = 15) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float, what: str) -> Iterator[None]:
    """Exclusive flock on `path`, waiting at most `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LocalEnvError(
                        f"timed out after {timeout:.0f}s waiting for another {what} (lock {path})"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def spawn_recorded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | Path,
    log: Path,
    record: Path,
    fields: Mapping[str, Any],
    argv_key: str = "argv",
    pidfile: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` detached in its own session and record it.

    The output (stdout + stderr) is appended to `log` after a
    `==== plexica: starting ...` marker line. If `pidfile` is given the pid is
    written there; then `record` receives `fields` plus the pid, its start ticks
    (see `same_process`), `argv` under `argv_key`, `log` and `started_at`.
    """
    args = list(argv)
    with log.open("ab") as out:
        out.write(f"\n==== plexica: starting {' '.join(args)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    if pidfile is not None:
        pidfile.write_text(f"{proc.pid}\n")
    write_json(
        record,
        {
            **fields,
            "pid": proc.pid,
            "start_ticks": proc_start_ticks(proc.pid),
            argv_key: args,
            "log": str(log),
            "started_at": time.time(),
        },
    )
    return proc
