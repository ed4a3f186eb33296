"""The cluster's processes: started detached, recorded in `run.json`, stopped by pid.

A record holds each process's pid and psutil create time, so a stop never signals
a recycled pid, and only processes this module started are ever stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

__all__ = ["alive", "kill_matching", "read_record", "spawn", "stop", "wait_for", "write_record"]


def read_record(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    os.replace(tmp, path)


def spawn(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Start `argv` in its own session, output appended to `log`; returns its record entry."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n==== plexica: starting {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
        )
    return {"pid": proc.pid, "create_time": psutil.Process(proc.pid).create_time(), "log": str(log)}


def _process(entry: Mapping[str, Any]) -> psutil.Process | None:
    try:
        proc = psutil.Process(int(entry["pid"]))
        if abs(proc.create_time() - float(entry["create_time"])) > 0.01:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            proc.wait(0)
            return None
        return proc
    except (psutil.Error, KeyError, TypeError, ValueError):
        return None


def alive(entry: Mapping[str, Any]) -> bool:
    return _process(entry) is not None


def stop(entry: Mapping[str, Any], *, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; a process that is gone already is fine."""
    proc = _process(entry)
    if proc is None:
        return
    try:
        proc.terminate()
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    except psutil.Error:
        pass


def kill_matching(needle: str, *, names: Sequence[str]) -> int:
    """SIGKILL every process named in `names` whose command line contains `needle`."""
    victims = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info.get("name") in names and any(needle in arg for arg in cmdline):
            victims.append(proc)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=10)
    return len(victims)


def wait_for(check: Any, *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
