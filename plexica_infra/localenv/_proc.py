"""Processes, records and locks of the local-environment managers, on psutil and filelock.

A background process we start (dockerd, the Core API emulator) is *recorded*: a
JSON file holds its pid and its kernel start time, so a later run recognises it
(`recorded_process`) and never mistakes a reused pid for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import filelock
import psutil

from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "Progress",
    "default_progress",
    "file_lock",
    "processes_matching",
    "read_json",
    "recorded_process",
    "spawn_recorded",
    "stop_processes",
    "tail",
    "write_json",
]

Progress = Callable[[str], None]
#: After SIGTERM and the caller's timeout, SIGKILL gets this long to take effect.
_KILL_GRACE_SECONDS = 5.0


def default_progress(message: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable (e.g. DOCKER_HOST)."""
    print(f"[localenv] {message}", file=sys.stderr, flush=True)


def recorded_process(record: Mapping[str, Any] | None) -> psutil.Process | None:
    """The live process a record describes, or None (gone, a zombie, or its pid reused)."""
    if record is None or not isinstance(record.get("pid"), int):
        return None
    try:
        process = psutil.Process(record["pid"])
        if process.status() == psutil.STATUS_ZOMBIE:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(process.pid, os.WNOHANG)  # our own exited child: reap it
            return None
        created = record.get("create_time")
        if isinstance(created, int | float) and abs(process.create_time() - created) > 0.01:
            return None
        return process
    except psutil.NoSuchProcess:
        return None


def processes_matching(predicate: Callable[[list[str]], bool]) -> list[psutil.Process]:
    """Live processes (other than this one) whose command line satisfies `predicate`."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info.get("cmdline") or []
        if process.pid != os.getpid() and argv and predicate(list(argv)):
            found.append(process)
    return found


def stop_processes(processes: Iterable[psutil.Process], *, timeout: float) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL what is left. True when all have exited."""
    targets = list(processes)
    for process in targets:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _gone, alive = psutil.wait_procs(targets, timeout=timeout)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    _gone, alive = psutil.wait_procs(alive, timeout=_KILL_GRACE_SECONDS)
    return not alive


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
    """An exclusive lock on `path` for one start/stop at a time, waiting at most `timeout`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with filelock.FileLock(path, timeout=timeout):
            yield
    except filelock.Timeout:
        raise LocalEnvError(f"timed out after {timeout:.0f}s waiting for another {what} (lock {path})") from None


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
    written there; then `record` receives `fields` plus the pid, its start time
    (see `recorded_process`), `argv` under `argv_key`, `log` and `started_at`.
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
    process = psutil.Process(proc.pid)
    write_json(
        record,
        {
            **fields,
            "pid": proc.pid,
            "create_time": process.create_time(),
            argv_key: args,
            "log": str(log),
            "started_at": process.create_time(),
        },
    )
    return proc
