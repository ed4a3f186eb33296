"""Find an answering Docker engine, and where our own dockerd keeps its files.

`find_docker(state_dir)` tries DOCKER_HOST, the default socket, then the dockerd that
`dockerd.ensure_docker` started for the state dir; `docker_status` reports what answers.
No side effects: starting and stopping our dockerd is `localenv.dockerd`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from plexica_infra.docker._engine import DEFAULT_DOCKER_HOST, EngineError, engine_client
from plexica_infra.localenv._proc import read_json, recorded_process
from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "DockerPaths",
    "default_bridge_present",
    "docker_paths",
    "docker_status",
    "find_docker",
    "our_record",
    "ping_docker",
]

# sun_path is 108 bytes including the terminating NUL; keep a margin.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class DockerPaths:
    root: Path
    data_root: Path
    exec_root: Path
    socket: Path
    pidfile: Path
    log: Path
    config: Path
    record: Path
    lock: Path
    machine: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


def _short_runtime_dir(root: Path) -> Path:
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:10]
    for base in (Path("/run"), Path("/tmp")):
        if base.is_dir() and os.access(base, os.W_OK):
            return base / f"plexica-docker-{digest}"
    raise LocalEnvError("no writable /run or /tmp for the docker socket")


def docker_paths(state_dir: Path) -> DockerPaths:
    root = Path(state_dir).resolve() / "docker"
    socket = root / "docker.sock"
    exec_root = root / "exec"
    # containerd's socket lives under the exec-root: it must fit as well.
    longest = exec_root / "containerd" / "containerd.sock.ttrpc"
    if max(len(os.fsencode(socket)), len(os.fsencode(longest))) > _MAX_SOCKET_PATH:
        short = _short_runtime_dir(root)
        socket, exec_root = short / "docker.sock", short / "exec"
    return DockerPaths(
        root=root,
        data_root=root / "data",
        exec_root=exec_root,
        socket=socket,
        pidfile=root / "dockerd.pid",
        log=root / "dockerd.log",
        config=root / "daemon.json",
        record=root / "started-by-plexica.json",
        lock=root / ".lock",
        machine=root / "machine.json",
    )


def ping_docker(host: str, timeout: float = 2.0) -> bool:
    """True if a Docker engine answers `GET /_ping` at `host`."""
    try:
        client = engine_client(host, timeout=timeout)
    except EngineError:
        return False
    try:
        return bool(client.ping())
    except docker.errors.DockerException:
        return False
    finally:
        client.close()


def our_record(paths: DockerPaths) -> dict[str, Any] | None:
    record = read_json(paths.record)
    if record is None or not isinstance(record.get("pid"), int):
        return None
    return record


def find_docker(state_dir: Path) -> str | None:
    """The first answering engine among DOCKER_HOST, the default socket and ours; no side effects."""
    candidates: list[str] = []
    env_host = os.environ.get("DOCKER_HOST", "").strip()
    if env_host:
        candidates.append(env_host)
    candidates.append(DEFAULT_DOCKER_HOST)
    paths = docker_paths(state_dir)
    record = our_record(paths)
    if record is not None and isinstance(record.get("host"), str):
        candidates.append(record["host"])
    candidates.append(paths.host)
    seen: set[str] = set()
    for host in candidates:
        if host in seen:
            continue
        seen.add(host)
        if ping_docker(host):
            return host
    return None


def default_bridge_present() -> bool:
    """Is the default bridge interface (docker0) there?

    A second dockerd started with `--bridge=none` on the same machine deletes
    docker0 at its startup; containers on our default `bridge` network then fail
    to start ("could not find bridge docker0"). User networks are unaffected.
    """
    return Path("/sys/class/net/docker0").exists()


def docker_status(state_dir: Path) -> dict[str, Any]:
    """What `status` prints: the answering engine (if any) and whether we started it."""
    paths = docker_paths(state_dir)
    record = our_record(paths)
    ours_alive = recorded_process(record) is not None
    host = find_docker(state_dir)
    status: dict[str, Any] = {
        "host": host,
        "started_by_plexica": bool(ours_alive and record is not None and host == record.get("host")),
        "pid": record["pid"] if ours_alive and record is not None else None,
        "socket": str(paths.socket),
        "log": str(paths.log),
        "data_root": str(paths.data_root),
        "default_bridge_present": default_bridge_present(),
    }
    if host is not None:
        with contextlib.suppress(EngineError, docker.errors.DockerException):
            client = engine_client(host, timeout=5)
            try:
                version = client.version()
            finally:
                client.close()
            status["server_version"] = version.get("Version")
            status["api_version"] = version.get("ApiVersion")
    return status
