"""`cluster-up` / `cluster-down`: a real single-node Kubernetes cluster on this machine.

Control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
(built by `tools/build.sh` from `tools/kube`, v1.36.1). Node: Debian's containerd
1.6 with runc and the CNI bridge plugin, the kubelet, kube-proxy in iptables mode
(so ClusterIPs answer from this host), and a small cluster DNS. Images come from
local single-layer archives (`_images`), never from a registry.

`cluster_up` is idempotent: a running cluster is reused (images are re-imported
only when they changed), a half-started one is torn down and started again.
`cluster_down` stops what `cluster_up` started and leaves no process, mount,
bridge, network namespace or iptables chain of ours.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.cluster import _net
from plexica_infra.localenv.cluster._components import CLIENTS, CNI_BIN_DIR, components, kubelet_client, write_configs
from plexica_infra.localenv.cluster._images import import_images
from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths, cluster_paths, kube_bin_dir
from plexica_infra.localenv.cluster._pki import Pki, ensure_pki, write_kubeconfig
from plexica_infra.localenv.cluster._probes import apiserver_ready, ctr, node_ready, ready_check
from plexica_infra.localenv.cluster._procs import alive, read_record, spawn, wait_for, write_record
from plexica_infra.localenv.cluster._teardown import teardown
from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "ClusterInfo",
    "cluster_down",
    "cluster_status",
    "cluster_up",
    "leftovers",
    "missing_prerequisites",
]

REPO = Path(__file__).resolve().parents[3]
KUBE_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
HOST_TOOLS = {"containerd": "containerd", "runc": "runc", "ctr": "containerd", "iptables": "iptables"}
_START_TIMEOUT = 90.0
_ORDER = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "containerd",
    "kubelet",
    "kube-proxy",
    "dns",
)


@dataclass(frozen=True)
class ClusterInfo:
    kubeconfig: Path
    server: str
    started: bool
    seconds: float


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run the cluster, each with how to get it."""
    missing = [
        f"{name} (make setup builds it into {kube_bin_dir()})"
        for name in (*KUBE_BINARIES, "kube-pause", "kubectl")
        if not (kube_bin_dir() / name).is_file()
    ]
    missing += [
        f"{tool} (Debian package {pkg}; tools/kube/setup-node.sh)"
        for tool, pkg in HOST_TOOLS.items()
        if not shutil.which(tool)
    ]
    if not Path(CNI_BIN_DIR, "bridge").is_file():
        missing.append(
            f"CNI plugins in {CNI_BIN_DIR} (Debian package containernetworking-plugins; tools/kube/setup-node.sh)"
        )
    if os.geteuid() != 0:
        missing.append("root (the node runs containers and changes iptables)")
    return missing


def _tail(path: str, lines: int = 8) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _write_kubeconfigs(pki: Pki, paths: ClusterPaths) -> None:
    paths.kubeconfigs.mkdir(parents=True, exist_ok=True)
    server = ADDRESSES.apiserver_url
    for client in ("controller-manager", "scheduler", "kube-proxy", "kubelet"):
        write_kubeconfig(paths.kubeconfigs / f"{client}.kubeconfig", pki=pki, server=server, client=client)
    write_kubeconfig(paths.admin_kubeconfig, pki=pki, server=server, client="admin")


def cluster_status(state_dir: Path) -> dict[str, Any]:
    paths = cluster_paths(state_dir)
    record = read_record(paths.record)
    procs = record.get("processes", {})
    running = {name: alive(entry) for name, entry in procs.items()}
    pki = Pki(paths.pki)
    answering = bool(running) and pki.ca_cert.is_file() and apiserver_ready(pki)
    return {
        "kubeconfig": str(paths.admin_kubeconfig),
        "server": ADDRESSES.apiserver_url,
        "processes": running,
        "running": bool(running) and all(running.values()),
        "answering": answering,
    }


def _healthy(paths: ClusterPaths) -> bool:
    record = read_record(paths.record)
    procs = record.get("processes", {})
    if set(procs) != set(_ORDER) or not all(alive(entry) for entry in procs.values()):
        return False
    pki = Pki(paths.pki)
    return apiserver_ready(pki) and node_ready(pki)


def cluster_up(state_dir: Path, *, plugin_refs: Sequence[str] = (), progress: Progress | None = None) -> ClusterInfo:
    """Start the cluster (or reuse the running one) and import the images; returns where it answers."""
    say = progress or default_progress
    started_at = time.monotonic()
    missing = missing_prerequisites()
    if missing:
        raise LocalEnvError("the local cluster needs: " + "; ".join(missing))
    paths = cluster_paths(state_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(paths.lock), timeout=600):
            started = not _healthy(paths)
            if started:
                if read_record(paths.record):
                    say("cluster: a previous cluster is half-running; stopping it first")
                    teardown(paths, say)
                _start(paths, say)
            else:
                say(f"cluster: already running at {ADDRESSES.apiserver_url}")
            imported = import_images(
                ctr=ctr(paths),
                images_dir=paths.images,
                marker_dir=paths.containerd / "plexica-imported",
                pause_binary=kube_bin_dir() / "kube-pause",
                plugin_refs=plugin_refs,
                state_dir=state_dir,
                progress=say,
            )
            if imported:
                say(f"cluster: imported {len(imported)} image archive(s)")
    except Timeout:
        raise LocalEnvError(f"another cluster-up or cluster-down holds {paths.lock}; try again when it ends") from None
    return ClusterInfo(paths.admin_kubeconfig, ADDRESSES.apiserver_url, started, time.monotonic() - started_at)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ADDRESSES.listen_ip, port))
        except OSError:
            return False
    return True


def _refuse_foreign_cluster(paths: ClusterPaths) -> None:
    """One local cluster per machine: its ports, bridge and iptables chains are the host's."""
    a = ADDRESSES
    taken = [
        p for p in (a.etcd_client_port, a.apiserver_port, a.kubelet_port, a.proxy_healthz_port) if not _port_free(p)
    ]
    if taken or _net.bridge_exists(a.bridge):
        what = f"127.0.0.1:{', '.join(map(str, taken))} in use" if taken else f"bridge {a.bridge} exists"
        raise LocalEnvError(
            f"another local Kubernetes cluster (or another process) is running on this machine ({what}); "
            "stop it with `python -m plexica_infra.localenv cluster-down` in the checkout that started it"
        )


def _start(paths: ClusterPaths, say: Progress) -> None:
    a = ADDRESSES
    _refuse_foreign_cluster(paths)
    for stale in paths.runtime_dirs:
        shutil.rmtree(stale, ignore_errors=True)
    pki = ensure_pki(
        paths.pki,
        clients=(*CLIENTS, kubelet_client(a)),
        apiserver_ips=(a.listen_ip, a.node_ip, a.apiserver_service_ip),
        node_name=a.node_name,
        node_ips=(a.listen_ip, a.node_ip),
    )
    _write_kubeconfigs(pki, paths)
    write_configs(pki, paths, a)
    network = ipaddress.ip_network(a.pod_cidr)
    _net.ensure_bridge(a.bridge, a.bridge_ip, network.prefixlen)
    _net.ensure_forward_rule(a.bridge)
    record: dict[str, Any] = {"processes": {}, "netns_before": sorted(_net.netns_list())}
    write_record(paths.record, record)
    steps = components(kube_bin_dir(), pki, paths, a)
    steps_by_name = {c.name: list(c.argv) for c in steps}
    steps_by_name["dns"] = [
        sys.executable,
        "-m",
        "plexica_infra.localenv.cluster._dns",
        str(paths.admin_kubeconfig),
        a.bridge_ip,
        a.cluster_domain,
    ]
    for name in _ORDER:
        t0 = time.monotonic()
        entry = spawn(steps_by_name[name], log=paths.logs / f"{name}.log", env={**os.environ, "PYTHONPATH": str(REPO)})
        record["processes"][name] = entry
        write_record(paths.record, record)
        check = ready_check(name, pki, paths)
        ready = wait_for(lambda c=check, e=entry: bool(c()) or not alive(e), timeout=_START_TIMEOUT)
        if not ready or not alive(entry):
            log = _tail(entry["log"])
            raise LocalEnvError(f"{name} did not become ready (log {entry['log']}):\n{log}")
        say(f"cluster: {name} ready in {time.monotonic() - t0:.1f}s")


def cluster_down(state_dir: Path, *, progress: Progress | None = None) -> bool:
    """Stop the cluster `cluster_up` started; returns False when nothing of it was running."""
    say = progress or default_progress
    paths = cluster_paths(state_dir)
    if not paths.root.is_dir():
        say("cluster: not started here; nothing to stop")
        return False
    try:
        with FileLock(str(paths.lock), timeout=600):
            had = bool(read_record(paths.record))
            teardown(paths, say)
    except Timeout:
        raise LocalEnvError(f"another cluster-up or cluster-down holds {paths.lock}; try again when it ends") from None
    say("cluster: stopped" if had else "cluster: nothing was running; leftovers swept")
    return had


def leftovers(state_dir: Path) -> dict[str, list[str]]:
    """What of a cluster is still on this host (empty lists after a clean cluster-down)."""
    paths = cluster_paths(state_dir)
    record = read_record(paths.record)
    return {
        "processes": [n for n, e in record.get("processes", {}).items() if alive(e)],
        "mounts": _net.mounts_under(paths.root),
        "bridge": [ADDRESSES.bridge] if _net.bridge_exists(ADDRESSES.bridge) else [],
        "netns": sorted(_net.netns_list() - set(record.get("netns_before", []))),
        "iptables": _net.leftover_chains(),
    }
