"""Stop what `cluster_up` started and sweep what it leaves on the host.

Order matters: controllers first (nothing may recreate pods), then the pods through
the kubelet (so CNI tears down their networks), then the node and the control
plane, then what outlives them: containerd shims, kube-proxy's and our iptables
chains, mounts, network namespaces, the bridge, the kubelet's cgroups.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from plexica_infra.localenv._proc import Progress
from plexica_infra.localenv.cluster import _net
from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths, kube_bin_dir
from plexica_infra.localenv.cluster._pki import Pki
from plexica_infra.localenv.cluster._probes import admin_client, containerd_ready, ctr, tasks
from plexica_infra.localenv.cluster._procs import alive, kill_matching, read_record, stop, wait_for

__all__ = ["teardown"]


def _delete_pods(pki: Pki, say: Progress) -> None:
    """Ask the kubelet to stop every pod (sandboxes, CNI teardown) before it goes."""
    try:
        with admin_client(pki) as client:
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


def teardown(paths: ClusterPaths, say: Progress) -> None:
    record = read_record(paths.record)
    procs: dict[str, Any] = record.get("processes", {})
    pki = Pki(paths.pki)
    # No controller may recreate pods while the node drains.
    for name in ("kube-controller-manager", "kube-scheduler"):
        if name in procs:
            stop(procs[name])
    if "kubelet" in procs and alive(procs["kubelet"]) and "containerd" in procs and alive(procs["containerd"]):
        _delete_pods(pki, say)
        wait_for(lambda: not tasks(paths), timeout=45, interval=0.5)
    for name in ("kubelet", "kube-proxy", "dns"):
        if name in procs:
            stop(procs[name])
    if paths.containerd_socket.exists() and containerd_ready(paths):
        for task in tasks(paths):
            subprocess.run(
                [*ctr(paths), "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", task], capture_output=True, check=False
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
