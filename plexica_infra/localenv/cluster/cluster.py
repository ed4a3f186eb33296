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

import contextlib
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock, Timeout

from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.cluster import _net
from plexica_infra.localenv.cluster._components import CLIENTS, CNI_BIN_DIR, components, kubelet_client, write_configs
from plexica_infra.localenv.cluster._images import import_images
from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths, cluster_paths
from plexica_infra.localenv.cluster._pki import Pki, ensure_pki, write_kubeconfig
from plexica_infra.localenv.cluster._procs import alive, kill_matching, read_record, spawn, stop, wait_for, write_record
from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "ClusterInfo",
    "cluster_down",
    "cluster_status",
    "cluster_up",
    "kube_bin_dir",
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


def kube_bin_dir() -> Path:
    return Path(os.environ.get("PLEXICA_KUBE_BIN", str(REPO / ".tools" / "bin")))


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


def _client(pki: Pki) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    return httpx.Client(verify=context, timeout=3.0)


def _http_ok(url: str, **kwargs: Any) -> bool:
    try:
        with httpx.Client(timeout=2.0, **kwargs) as client:
            return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _apiserver_ready(pki: Pki) -> bool:
    try:
        with _client(pki) as client:
            return client.get(f"{ADDRESSES.apiserver_url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def _node_ready(pki: Pki) -> bool:
    try:
        with _client(pki) as client:
            node = client.get(f"{ADDRESSES.apiserver_url}/api/v1/nodes/{ADDRESSES.node_name}")
    except httpx.HTTPError:
        return False
    if node.status_code != 200:
        return False
    conditions = node.json().get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _ctr(paths: ClusterPaths) -> list[str]:
    return ["ctr", "--address", str(paths.containerd_socket)]


def _containerd_ready(paths: ClusterPaths) -> bool:
    if not paths.containerd_socket.exists():
        return False
    return subprocess.run([*_ctr(paths), "version"], capture_output=True, check=False).returncode == 0


def _ready_check(name: str, pki: Pki, paths: ClusterPaths) -> Any:
    a = ADDRESSES
    insecure = {"verify": False}
    checks: dict[str, Any] = {
        "etcd": lambda: _http_ok(f"{a.etcd_url}/health"),
        "kube-apiserver": lambda: _apiserver_ready(pki),
        "kube-controller-manager": lambda: _http_ok(
            f"https://127.0.0.1:{a.controller_manager_port}/healthz", **insecure
        ),
        "kube-scheduler": lambda: _http_ok(f"https://127.0.0.1:{a.scheduler_port}/healthz", **insecure),
        "containerd": lambda: _containerd_ready(paths),
        "kubelet": lambda: _node_ready(pki),
        "kube-proxy": lambda: _http_ok(f"http://127.0.0.1:{a.proxy_healthz_port}/healthz"),
        "dns": lambda: True,
    }
    return checks[name]


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
    answering = bool(running) and pki.ca_cert.is_file() and _apiserver_ready(pki)
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
    return _apiserver_ready(pki) and _node_ready(pki)


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
                    _teardown(paths, say)
                _start(paths, say)
            else:
                say(f"cluster: already running at {ADDRESSES.apiserver_url}")
            imported = import_images(
                ctr=_ctr(paths),
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
        check = _ready_check(name, pki, paths)
        ready = wait_for(lambda c=check, e=entry: bool(c()) or not alive(e), timeout=_START_TIMEOUT)
        if not ready or not alive(entry):
            log = _tail(entry["log"])
            raise LocalEnvError(f"{name} did not become ready (log {entry['log']}):\n{log}")
        say(f"cluster: {name} ready in {time.monotonic() - t0:.1f}s")


def _delete_pods(pki: Pki, say: Progress) -> None:
    """Ask the kubelet to stop every pod (sandboxes, CNI teardown) before it goes."""
    try:
        with _client(pki) as client:
            pods = client.get(f"{ADDRESSES.apiserver_url}/api/v1/pods").json().get("items", [])
            for pod in pods:
                meta = pod["metadata"]
                client.delete(
                    f"{ADDRESSES.apiserver_url}/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                    params={"gracePeriodSeconds": "1"},
                )
            if pods:
                say(f"cluster: stopping {len(pods)} pod(s)")
    except httpx.HTTPError:
        return


def _tasks(paths: ClusterPaths) -> list[str]:
    result = subprocess.run(
        [*_ctr(paths), "-n", "k8s.io", "tasks", "ls", "-q"], capture_output=True, text=True, check=False
    )
    return result.stdout.split() if result.returncode == 0 else []


def _teardown(paths: ClusterPaths, say: Progress) -> None:
    record = read_record(paths.record)
    procs: dict[str, Any] = record.get("processes", {})
    pki = Pki(paths.pki)
    # No controller may recreate pods while the node drains.
    for name in ("kube-controller-manager", "kube-scheduler"):
        if name in procs:
            stop(procs[name])
    if "kubelet" in procs and alive(procs["kubelet"]) and "containerd" in procs and alive(procs["containerd"]):
        _delete_pods(pki, say)
        wait_for(lambda: not _tasks(paths), timeout=45, interval=0.5)
    for name in ("kubelet", "kube-proxy", "dns"):
        if name in procs:
            stop(procs[name])
    if paths.containerd_socket.exists() and _containerd_ready(paths):
        for task in _tasks(paths):
            subprocess.run(
                [*_ctr(paths), "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", task], capture_output=True, check=False
            )
    for name in ("containerd", "kube-apiserver", "etcd"):
        if name in procs:
            stop(procs[name])
    # Shims of our containerd outlive it; so do their containers' processes.
    kill_matching(str(paths.containerd_socket), names=("containerd-shim-runc-v2", "containerd-shim"))
    proxy = kube_bin_dir() / "kube-proxy"
    if proxy.is_file():
        subprocess.run([str(proxy), "--cleanup", "--v=0"], capture_output=True, check=False)
    _net.remove_chains()
    still = _net.unmount_under(paths.root)
    if still:
        say(f"cluster: could not unmount {len(still)} mount(s) under {paths.root}: {', '.join(still[:3])}")
    new_netns = _net.netns_list() - set(record.get("netns_before", []))
    _net.remove_netns(new_netns)
    _net.delete_bridge(ADDRESSES.bridge)
    _net.remove_cni_cache(ADDRESSES.cni_network)
    _remove_cgroups()
    for runtime in paths.runtime_dirs:
        shutil.rmtree(runtime, ignore_errors=True)
    paths.record.unlink(missing_ok=True)


def _remove_cgroups() -> None:
    """The kubelet's `kubepods` cgroups (cgroupfs driver), deepest first, in every v1 hierarchy."""
    root = Path("/sys/fs/cgroup")
    for hierarchy in root.iterdir() if root.is_dir() else []:
        top = hierarchy / "kubepods"
        if not top.is_dir():
            continue
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


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
            _teardown(paths, say)
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
