"""Find or start a Docker engine for the local environment.

`ensure_docker(state_dir)` returns a DOCKER_HOST URL:

1. `DOCKER_HOST` if set and an engine answers `/_ping` there;
2. the default socket `/var/run/docker.sock` if an engine answers there;
3. a dockerd this module started earlier for the same state dir (recorded in
   `<state_dir>/docker/started-by-plexica.json`);
4. otherwise it installs Debian's `docker.io` if `dockerd` is missing and starts
   `dockerd` as root in the background, everything under `<state_dir>/docker/`:

   - `data/`           --data-root (images, containers; vfs storage driver)
   - `exec/`           --exec-root (also holds the containerd dockerd spawns)
   - `docker.sock`     -H unix://... (a short /run/plexica-docker-<hash>/ directory
                       holds socket + exec-root when the path would exceed the
                       108-byte unix socket limit)
   - `dockerd.pid`     --pidfile
   - `dockerd.log`     daemon stdout/stderr
   - `daemon.json`     --config-file (bounded json-file container logs)

Networking: bridge networks need iptables (NAT for published ports, FORWARD
rules). Debian's `iptables` (nf_tables backend, pulled in by docker.io) works on
this kernel; dockerd itself enables net.ipv4.ip_forward and sets up its chains.
If `iptables -t nat -L` fails, dockerd is started with `--iptables=false` as a
degraded mode: ports published on 127.0.0.1 still work through docker-proxy and
the embedded DNS still resolves container names (both checked here with a second
daemon), but container-to-container traffic then depends on the host's FORWARD
policy (br_netfilter), which nothing programs for us.

`stop_docker(state_dir)` stops only a daemon recorded as started by us, waits
for it to exit, then ends any containerd / shim process left under its exec-root.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from plexica_infra.localenv._engine import DEFAULT_DOCKER_HOST, Engine
from plexica_infra.localenv._proc import (
    Progress,
    default_progress,
    file_lock,
    kill_and_wait,
    pid_alive,
    proc_cmdline,
    read_json,
    same_process,
    spawn_recorded,
    tail,
)
from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "DockerPaths",
    "default_bridge_present",
    "docker_paths",
    "docker_status",
    "ensure_docker",
    "find_docker",
    "ping_docker",
    "stop_docker",
]

# sun_path is 108 bytes including the terminating NUL; keep a margin.
_MAX_SOCKET_PATH = 100
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DAEMON_CONFIG: dict[str, Any] = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "2"},
}


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
    )


def ping_docker(host: str, timeout: float = 2.0) -> bool:
    """True if a Docker engine answers `GET /_ping` at `host`."""
    try:
        with Engine(host, timeout=timeout) as engine:
            return engine.ping(timeout=timeout)
    except LocalEnvError:
        return False


def _our_record(paths: DockerPaths) -> dict[str, Any] | None:
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
    record = _our_record(paths)
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


def _cli_identity() -> str:
    cli = shutil.which("docker")
    if cli is None:
        return "none"
    try:
        out = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=20, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = "?"
    return f"{cli}: {out}"


def _find_dockerd() -> str | None:
    found = shutil.which("dockerd", path=_SYSTEM_PATH)
    return found


def _apt_candidate(package: str) -> str | None:
    out = subprocess.run(
        ["apt-cache", "policy", package], capture_output=True, text=True, timeout=120, check=False
    ).stdout
    for line in out.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Candidate":
            value = value.strip()
            return None if value in ("", "(none)") else value
    return None


def _install_docker_io(progress: Progress) -> str:
    """apt-get install Debian's docker.io without starting its service."""
    if shutil.which("apt-get") is None or shutil.which("apt-cache") is None:
        raise LocalEnvError("dockerd is not installed and apt-get is unavailable; install a Docker engine")
    candidate = _apt_candidate("docker.io")
    if candidate is None:
        progress("apt-cache knows no docker.io candidate; running apt-get update")
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600, check=False)
        candidate = _apt_candidate("docker.io")
    if candidate is None:
        raise LocalEnvError("dockerd is missing and apt has no docker.io package (apt-cache policy docker.io)")

    cli_before = _cli_identity()
    progress(f"installing docker.io {candidate} with apt-get (dockerd is missing)")
    # Keep the package's service from starting: we run our own dockerd.
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        created_policy = True
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "PATH": _SYSTEM_PATH}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [
                "apt-get", "install", "-y", "--no-install-recommends",
                "-o", "DPkg::Lock::Timeout=300", "docker.io",
            ],
            capture_output=True, text=True, env=env, timeout=1200, check=False,
        )  # fmt: skip
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise LocalEnvError("apt-get install docker.io failed: " + " | ".join(lines))
    progress(f"docker.io installed in {time.monotonic() - started:.1f}s")
    cli_after = _cli_identity()
    if cli_after != cli_before:
        progress(f"warning: `docker` on PATH changed from [{cli_before}] to [{cli_after}]")
    dockerd = _find_dockerd()
    if dockerd is None:
        raise LocalEnvError("docker.io installed but no dockerd binary found")
    return dockerd


def _iptables_usable() -> tuple[bool, str]:
    """Can dockerd program NAT/filter rules here? (Debian's iptables is the nf_tables variant.)"""
    iptables = shutil.which("iptables", path=_SYSTEM_PATH)
    if iptables is None:
        return False, "iptables is not installed"
    try:
        proc = subprocess.run(
            [iptables, "-t", "nat", "-L", "-n"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return proc.returncode == 0, proc.stderr.strip()


def _dockerd_args(dockerd: str, paths: DockerPaths, *, iptables: bool) -> list[str]:
    args = [
        dockerd,
        "--storage-driver=vfs",
        f"--data-root={paths.data_root}",
        f"--exec-root={paths.exec_root}",
        f"--pidfile={paths.pidfile}",
        f"--host={paths.host}",
        f"--config-file={paths.config}",
    ]
    if not iptables:
        # Degraded mode (see the module docstring): publishing via docker-proxy and
        # name resolution keep working; no NAT/FORWARD rules are programmed.
        args.append("--iptables=false")
    return args


def _wait_ping(host: str, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ping_docker(host, timeout=1.0):
            return True
        if not pid_alive(pid):
            return False
        time.sleep(0.2)
    return ping_docker(host, timeout=1.0)


def _start_dockerd(paths: DockerPaths, progress: Progress, timeout: float) -> str:
    if os.geteuid() != 0:
        raise LocalEnvError("no Docker engine answers and starting dockerd needs root; start one and set DOCKER_HOST")
    record = _our_record(paths)
    if record is not None and same_process(record["pid"], record.get("start_ticks")):
        # Our daemon is alive but did not answer the first ping: it may still be starting.
        progress(f"dockerd pid {record['pid']} (ours) is alive; waiting for it to answer")
        if _wait_ping(str(record["host"]), record["pid"], timeout):
            return str(record["host"])
        raise LocalEnvError(
            f"dockerd pid {record['pid']} started by plexica does not answer at {record['host']}; "
            f"see {paths.log} or run `python -m plexica_infra.localenv docker-down`"
        )

    if _stop_unrecorded(paths, progress, timeout=60):
        _cleanup_leftovers(paths)
    dockerd = _find_dockerd() or _install_docker_io(progress)
    for directory in (paths.root, paths.data_root, paths.exec_root, paths.socket.parent):
        directory.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(json.dumps(_DAEMON_CONFIG, indent=2) + "\n")
    iptables_ok, why = _iptables_usable()
    if not iptables_ok:
        progress(f"warning: iptables is not usable ({why}); starting dockerd with --iptables=false")
    args = _dockerd_args(dockerd, paths, iptables=iptables_ok)
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
    if not _wait_ping(paths.host, proc.pid, timeout):
        alive = proc.poll() is None
        if alive:
            kill_and_wait(proc.pid, timeout=15)
        _cleanup_leftovers(paths)
        paths.record.unlink(missing_ok=True)
        state = f"did not answer within {timeout:.0f}s" if alive else f"exited with {proc.poll()}"
        raise LocalEnvError(f"dockerd {state}; last log lines:\n{tail(paths.log)}")
    progress(f"dockerd ready in {time.monotonic() - started:.1f}s (pid {proc.pid})")
    return paths.host


def default_bridge_present() -> bool:
    """Is the default bridge interface (docker0) there?

    A second dockerd started with `--bridge=none` on the same machine deletes
    docker0 at its startup; containers on our default `bridge` network then fail
    to start ("could not find bridge docker0"). User networks are unaffected.
    """
    return Path("/sys/class/net/docker0").exists()


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


def _leftover_pids(paths: DockerPaths) -> list[int]:
    """containerd / shim processes that reference our exec-root (spawned by our dockerd)."""
    marker = str(paths.exec_root)
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        cmdline = proc_cmdline(pid)
        if cmdline and any(marker in arg for arg in cmdline) and pid_alive(pid):
            pids.append(pid)
    return pids


def _our_dockerd_pids(paths: DockerPaths) -> list[int]:
    """dockerd processes running on our data-root/socket, recorded or not.

    The record can be lost (e.g. someone deletes `.state` while the daemon runs);
    a dockerd whose arguments name our data-root or socket is ours all the same.
    """
    markers = (f"--data-root={paths.data_root}", f"--host={paths.host}")
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        cmdline = proc_cmdline(pid)
        if cmdline and Path(cmdline[0]).name == "dockerd" and any(arg in markers for arg in cmdline) and pid_alive(pid):
            pids.append(pid)
    return pids


def _stop_unrecorded(paths: DockerPaths, progress: Progress, timeout: float) -> list[int]:
    pids = _our_dockerd_pids(paths)
    for pid in pids:
        progress(f"stopping dockerd pid {pid} (runs on this state dir but its record is missing)")
        kill_and_wait(pid, timeout=timeout)
    return pids


def _cleanup_leftovers(paths: DockerPaths) -> list[int]:
    pids = _leftover_pids(paths)
    for pid in pids:
        kill_and_wait(pid, timeout=10)
    return pids


def stop_docker(state_dir: Path, *, progress: Progress | None = None, timeout: float = 60.0) -> bool:
    """Stop the dockerd we started for `state_dir`. False if we had not started one."""
    progress = progress or default_progress
    paths = docker_paths(state_dir)
    with file_lock(paths.lock, timeout=300, what="dockerd start/stop"):
        record = _our_record(paths)
        if record is None:
            stopped = _stop_unrecorded(paths, progress, timeout)
            if stopped:
                _cleanup_leftovers(paths)
                return True
            progress("no dockerd started by plexica for this state dir; nothing to stop")
            return False
        pid = int(record["pid"])
        if same_process(pid, record.get("start_ticks")):
            progress(f"stopping dockerd pid {pid}")
            started = time.monotonic()
            if not kill_and_wait(pid, timeout=timeout):
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


def docker_status(state_dir: Path) -> dict[str, Any]:
    """What `status` prints: the answering engine (if any) and whether we started it."""
    paths = docker_paths(state_dir)
    record = _our_record(paths)
    ours_alive = record is not None and same_process(int(record["pid"]), record.get("start_ticks"))
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
        with (
            contextlib.suppress(LocalEnvError, OSError, ValueError, httpx.HTTPError),
            Engine(host, timeout=5) as engine,
        ):
            version = engine.version()
            status["server_version"] = version.get("Version")
            status["api_version"] = version.get("ApiVersion")
    return status
