"""Recover from a killed `pulumi` run: its stack lock and its leftover plugin processes.

A `pulumi up` killed with SIGKILL (a cancelled CI job, an OOM kill) cannot remove the
lock it wrote into the file backend (`<backend>/.pulumi/locks/.../<project>/<stack>/
<uuid>.json`, recording the CLI's pid, user, host and start time), and the plugins it
started (language host, providers) lose their parent and keep running. Every later
`up`, `down` or `preview` then fails with "the stack is currently locked".

`recover_stack(...)`, called by localenv before every engine run, tells the cases apart:

- lock written on this host by a pid that is gone (or reused by a process started
  after the lock): the run was killed. Its leftover plugin processes are stopped, the
  lock file is removed and one warning says so;
- lock held by a live process on this host, or written on another host: nothing is
  touched; one error line names the holder and the exact command that clears the lock
  once that run is known to be dead.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from plexica_infra.localenv._proc import Progress, stop_processes
from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["StackLock", "leftover_plugin_processes", "recover_stack", "stack_locks"]

#: Executables the engine starts as plugins (language hosts, providers) and the
#: Python scripts two of them are (the program's exec script, the dynamic-provider host).
_PLUGIN_PREFIXES = ("pulumi-language-", "pulumi-resource-", "pulumi-analyzer-")


@dataclass(frozen=True)
class StackLock:
    """One lock file of the file backend, as the CLI wrote it."""

    path: Path
    pid: int
    username: str
    hostname: str
    timestamp: str

    @property
    def on_this_host(self) -> bool:
        return self.hostname == socket.gethostname()

    def started(self) -> float | None:
        try:
            return datetime.fromisoformat(self.timestamp).timestamp()
        except ValueError:
            return None

    def holder_alive(self) -> bool:
        """The pid that wrote the lock still runs (and is not a later process reusing it)."""
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            created = process.create_time()
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True
        started = self.started()
        # A process created after the lock was written cannot have written it (1 s slack:
        # the lock's timestamp and the kernel's start time are read by different clocks).
        return started is None or created <= started + 1.0

    def describe(self) -> str:
        return f"pid {self.pid} of {self.username}@{self.hostname} since {self.timestamp}"


def _lock_dir(backend_dir: Path) -> Path:
    return backend_dir / ".pulumi" / "locks"


def stack_locks(backend_dir: Path, project: str, stack: str) -> list[StackLock]:
    """The lock files of `project`/`stack` in a file backend (any organization folder)."""
    root = _lock_dir(backend_dir)
    if not root.is_dir():
        return []
    locks: list[StackLock] = []
    for path in sorted(root.rglob("*.json")):
        if path.parent.name != stack or path.parent.parent.name != project:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            locks.append(
                StackLock(
                    path=path,
                    pid=int(data["pid"]),
                    username=str(data.get("username", "?")),
                    hostname=str(data.get("hostname", "?")),
                    timestamp=str(data.get("timestamp", "?")),
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LocalEnvError(f"{path}: unreadable Pulumi stack lock ({exc}); remove the file by hand") from exc
    return locks


def _is_plugin(process: psutil.Process) -> bool:
    try:
        argv = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
        return False
    names = [Path(arg).name for arg in argv[:2]]
    # The dynamic-provider host is a shell script that runs `python -u -m pulumi.dynamic`.
    return any(name.startswith(_PLUGIN_PREFIXES) for name in names) or "pulumi.dynamic" in argv[:4]


def _under_live_engine(process: psutil.Process) -> bool:
    """Some ancestor is a `pulumi` CLI: the plugin belongs to a run that is still going."""
    try:
        return any(parent.name() == "pulumi" for parent in process.parents())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def leftover_plugin_processes(backend_url: str) -> list[psutil.Process]:
    """Plugin processes of runs on `backend_url` whose `pulumi` CLI is gone.

    The engine hands its environment to its plugins, so PULUMI_BACKEND_URL tells
    which backend (this checkout's, a test's ephemeral one) a plugin worked for.
    """
    found: list[psutil.Process] = []
    for process in psutil.process_iter():
        if not _is_plugin(process) or _under_live_engine(process):
            continue
        try:
            if process.environ().get("PULUMI_BACKEND_URL") == backend_url:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
            continue
    return found


def _describe(process: psutil.Process) -> str:
    try:
        argv = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return str(process.pid)
    names = [Path(arg).name for arg in argv[:2]]
    name = next((n for n in names if n.startswith(_PLUGIN_PREFIXES)), "pulumi.dynamic")
    return f"{process.pid} ({name})"


def _clear_command(stack: str) -> str:
    return f". tools/env.sh && pulumi cancel --stack {stack} --yes"


def recover_stack(backend_url: str, project: str, stack: str, *, progress: Progress) -> None:
    """Clear what a killed run of `stack` left behind; refuse (one line) if a run may be live."""
    if not backend_url.startswith("file://"):
        return
    backend_dir = Path(backend_url.removeprefix("file://"))
    locks = stack_locks(backend_dir, project, stack)
    for lock in locks:
        if not lock.on_this_host:
            raise LocalEnvError(
                f"stack {stack!r} is locked by {lock.describe()}, another machine, so plexica cannot tell "
                f"whether that run still goes on; once it has ended, clear the lock with `{_clear_command(stack)}`"
            )
        if lock.holder_alive():
            raise LocalEnvError(
                f"stack {stack!r} is locked by a running pulumi ({lock.describe()}); wait for it to end, or "
                f"stop it (kill {lock.pid}) and clear the lock with `{_clear_command(stack)}`"
            )
    leftovers = leftover_plugin_processes(backend_url)
    if leftovers:
        described = ", ".join(_describe(p) for p in leftovers)
        progress(f"warning: stopping plugin processes left by a killed pulumi run: {described}")
        stop_processes(leftovers, timeout=10.0)
    for lock in locks:
        lock.path.unlink(missing_ok=True)
        progress(
            f"warning: cleared the lock of stack {stack!r} left by a killed pulumi run ({lock.describe()}, "
            "no longer running); the next run converges from the last saved state"
        )
