"""Find or start a Docker engine for the local environment.

`ensure_docker(state_dir)` returns a DOCKER_HOST URL:

1. `DOCKER_HOST` if set and an engine answers `/_ping` there;
2. the default socket `/var/run/docker.sock` if an engine answers there;
3. a dockerd this module started earlier for the same state dir (recorded in
   `<state_dir>/docker/started-by-plexica.json`);
4. otherwise it starts `dockerd` as root in the background (`make docker-engine`,
   i.e. tools/install-docker.sh, installs Debian's docker.io beforehand when it is
   missing), everything under `<state_dir>/docker/`:

   - `data/`           --data-root (images, containers; vfs storage driver)
   - `exec/`           --exec-root (also holds the containerd dockerd spawns)
   - `docker.sock`     -H unix://... (a short /run/plexica-docker-<hash>/ directory
                       holds socket + exec-root when the path would exceed the
                       108-byte unix socket limit)
   - `dockerd.pid`     --pidfile
   - `dockerd.log`     daemon stdout/stderr
   - `daemon.json`     --config-file (bounded json-file container logs)

Networking: bridge networks need iptables (NAT for published ports, FORWARD
rules). tools/install-docker.sh probes it and writes `<state_dir>/docker/machine.json`;
its settings (`{"iptables": false}` where iptables is unusable: a degraded mode in
which ports published on 127.0.0.1 still work through docker-proxy and container
names still resolve) are merged into the daemon's config file.

`stop_docker(state_dir)` stops only a daemon recorded as started by us, waits
for it to exit, then ends any containerd / shim process left under its exec-root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import psutil

from plexica_infra.localenv._proc import (
    Progress,
    default_progress,
    file_lock,
    processes_matching,
    read_json,
    recorded_process,
    spawn_recorded,
    stop_processes,
    tail,
)
from plexica_infra.localenv.engines import (
    DockerPaths,
    default_bridge_present,
    docker_paths,
    find_docker,
    our_record,
    ping_docker,
)
from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["ensure_docker", "stop_docker"]

_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DAEMON_CONFIG: dict[str, Any] = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "2"},
}


def _find_dockerd() -> str:
    found = shutil.which("dockerd", path=_SYSTEM_PATH)
    if found is None:
        raise LocalEnvError(
            "no Docker engine answers and dockerd is not installed: run `make docker-engine` "
            "(tools/install-docker.sh installs Debian's docker.io) or set DOCKER_HOST"
        )
    return found


def _daemon_config(paths: DockerPaths) -> dict[str, Any]:
    """Our daemon settings plus what tools/install-docker.sh found about this machine."""
    machine = read_json(paths.machine) or {}
    config = dict(_DAEMON_CONFIG)
    if machine.get("iptables") is False:
        config["iptables"] = False
    return config


def _dockerd_args(dockerd: str, paths: DockerPaths) -> list[str]:
    return [
        dockerd,
        "--storage-driver=vfs",
        f"--data-root={paths.data_root}",
        f"--exec-root={paths.exec_root}",
        f"--pidfile={paths.pidfile}",
        f"--host={paths.host}",
        f"--config-file={paths.config}",
    ]


def _wait_ping(host: str, process: psutil.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ping_docker(host, timeout=1.0):
            return True
        if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
            return False
        time.sleep(0.2)
    return ping_docker(host, timeout=1.0)


def _start_dockerd(paths: DockerPaths, progress: Progress, timeout: float) -> str:
    if os.geteuid() != 0:
        raise LocalEnvError("no Docker engine answers and starting dockerd needs root; start one and set DOCKER_HOST")
    record = our_record(paths)
    ours = recorded_process(record)
    if record is not None and ours is not None:
        # Our daemon is alive but did not answer the first ping: it may still be starting.
        progress(f"dockerd pid {record['pid']} (ours) is alive; waiting for it to answer")
        if _wait_ping(str(record["host"]), ours, timeout):
            return str(record["host"])
        raise LocalEnvError(
            f"dockerd pid {record['pid']} started by plexica does not answer at {record['host']}; "
            f"see {paths.log} or run `python -m plexica_infra.localenv docker-down`"
        )

    if _stop_unrecorded(paths, progress, timeout=60):
        _cleanup_leftovers(paths)
    dockerd = _find_dockerd()
    for directory in (paths.root, paths.data_root, paths.exec_root, paths.socket.parent):
        directory.mkdir(parents=True, exist_ok=True)
    config = _daemon_config(paths)
    if config.get("iptables") is False:
        progress(f"warning: iptables is not usable here ({paths.machine}); dockerd runs with iptables off")
    paths.config.write_text(json.dumps(config, indent=2) + "\n")
    args = _dockerd_args(dockerd, paths)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PATH"] = _SYSTEM_PATH

    progress(f"starting dockerd (vfs) on {paths.host}, log {paths.log}")
    started = time.monotonic()
    proc = spawn_recorded(
        args,
        env=env,
        cwd="/",
        log=paths.log,
        record=paths.record,
        argv_key="args",
        fields={
            "host": paths.host,
            "socket": str(paths.socket),
            "exec_root": str(paths.exec_root),
            "data_root": str(paths.data_root),
            "pidfile": str(paths.pidfile),
        },
    )
    if not _wait_ping(paths.host, psutil.Process(proc.pid), timeout):
        alive = proc.poll() is None
        if alive:
            stop_processes([psutil.Process(proc.pid)], timeout=15)
        _cleanup_leftovers(paths)
        paths.record.unlink(missing_ok=True)
        state = f"did not answer within {timeout:.0f}s" if alive else f"exited with {proc.poll()}"
        raise LocalEnvError(f"dockerd {state}; last log lines:\n{tail(paths.log)}")
    progress(f"dockerd ready in {time.monotonic() - started:.1f}s (pid {proc.pid})")
    return paths.host


def _warn_missing_bridge(host: str, paths: DockerPaths, progress: Progress) -> None:
    if host == paths.host and not default_bridge_present():
        progress(
            "warning: docker0 is missing (another dockerd with --bridge=none deletes it): containers "
            "on the default bridge network cannot start; use a user network, or docker-down + docker-up"
        )


def ensure_docker(state_dir: Path, *, progress: Progress | None = None, timeout: float = 120.0) -> str:
    """Return a DOCKER_HOST URL of an answering engine, starting our own dockerd if needed."""
    progress = progress or default_progress
    paths = docker_paths(state_dir)
    host = find_docker(state_dir)
    if host is not None:
        _warn_missing_bridge(host, paths, progress)
        return host
    env_host = os.environ.get("DOCKER_HOST", "").strip()
    if env_host:
        progress(f"DOCKER_HOST={env_host} does not answer; using a local dockerd instead")
    with file_lock(paths.lock, timeout=1500, what="dockerd start/stop"):
        host = find_docker(state_dir)
        if host is not None:
            return host
        return _start_dockerd(paths, progress, timeout)


def _leftovers(paths: DockerPaths) -> list[psutil.Process]:
    """containerd / shim processes that reference our exec-root (spawned by our dockerd)."""
    marker = str(paths.exec_root)
    return processes_matching(lambda argv: any(marker in arg for arg in argv))


def _unrecorded_dockerds(paths: DockerPaths) -> list[psutil.Process]:
    """dockerd processes running on our data-root/socket, recorded or not.

    The record can be lost (e.g. someone deletes `.state` while the daemon runs);
    a dockerd whose arguments name our data-root or socket is ours all the same.
    """
    markers = (f"--data-root={paths.data_root}", f"--host={paths.host}")
    return processes_matching(lambda argv: Path(argv[0]).name == "dockerd" and any(a in markers for a in argv))


def _stop_unrecorded(paths: DockerPaths, progress: Progress, timeout: float) -> list[int]:
    processes = _unrecorded_dockerds(paths)
    for process in processes:
        progress(f"stopping dockerd pid {process.pid} (runs on this state dir but its record is missing)")
    stop_processes(processes, timeout=timeout)
    return [process.pid for process in processes]


def _cleanup_leftovers(paths: DockerPaths) -> list[int]:
    processes = _leftovers(paths)
    stop_processes(processes, timeout=10)
    return [process.pid for process in processes]


def stop_docker(state_dir: Path, *, progress: Progress | None = None, timeout: float = 60.0) -> bool:
    """Stop the dockerd we started for `state_dir`. False if we had not started one."""
    progress = progress or default_progress
    paths = docker_paths(state_dir)
    with file_lock(paths.lock, timeout=300, what="dockerd start/stop"):
        record = our_record(paths)
        if record is None:
            stopped = _stop_unrecorded(paths, progress, timeout)
            if stopped:
                _cleanup_leftovers(paths)
                return True
            progress("no dockerd started by plexica for this state dir; nothing to stop")
            return False
        pid = int(record["pid"])
        process = recorded_process(record)
        if process is not None:
            progress(f"stopping dockerd pid {pid}")
            started = time.monotonic()
            if not stop_processes([process], timeout=timeout):
                raise LocalEnvError(f"dockerd pid {pid} did not exit")
            progress(f"dockerd stopped in {time.monotonic() - started:.1f}s")
        else:
            progress(f"dockerd pid {pid} recorded as ours is no longer running")
        leftovers = _cleanup_leftovers(paths)
        if leftovers:
            progress(f"stopped leftover containerd/shim processes {leftovers}")
        paths.record.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            paths.socket.unlink(missing_ok=True)
        return True
