"""Host-side network and mount state of the node: created on start, removed on stop.

What the node leaves behind unless removed: the CNI bridge, pod network
namespaces (`/run/netns/cni-*`), the kubelet's and containerd's mounts under the
cluster directory, and iptables chains (kube-proxy's, removed by
`kube-proxy --cleanup`; the kubelet's own `KUBE-FIREWALL`, `KUBE-KUBELET-CANARY`,
`KUBE-IPTABLES-HINT`, IPv4 and IPv6, removed here). Only chains whose names start
with `KUBE-` are touched, and a Docker engine's `DOCKER*` chains never are.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import psutil

__all__ = [
    "KUBELET_CHAINS",
    "bridge_exists",
    "delete_bridge",
    "ensure_bridge",
    "ensure_forward_rule",
    "leftover_chains",
    "mounts_under",
    "netns_list",
    "remove_chains",
    "remove_netns",
    "unmount_under",
]

NETNS_DIR = Path("/run/netns")
KUBELET_CHAINS = ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT")
_TABLES = ("filter", "nat", "mangle")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def bridge_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def ensure_bridge(name: str, cidr_ip: str, prefix: int) -> None:
    """The pods' bridge with its gateway address, up before any pod (the cluster DNS listens there)."""
    if not bridge_exists(name):
        _run("ip", "link", "add", name, "type", "bridge")
    if f"{cidr_ip}/" not in _run("ip", "-4", "addr", "show", "dev", name).stdout:
        _run("ip", "addr", "add", f"{cidr_ip}/{prefix}", "dev", name)
    _run("ip", "link", "set", name, "up")


#: Our FORWARD rule for pod-to-pod traffic across the bridge (a Docker engine sets the
#: FORWARD policy to DROP, and bridged frames pass iptables). Named KUBE-* so the sweep removes it.
PODS_CHAIN = "KUBE-PLEXICA-PODS"


def ensure_forward_rule(bridge: str) -> None:
    _run("iptables", "-w", "5", "-N", PODS_CHAIN)
    _run("iptables", "-w", "5", "-F", PODS_CHAIN)
    _run("iptables", "-w", "5", "-A", PODS_CHAIN, "-i", bridge, "-o", bridge, "-j", "ACCEPT")
    if _run("iptables", "-w", "5", "-C", "FORWARD", "-j", PODS_CHAIN).returncode != 0:
        _run("iptables", "-w", "5", "-I", "FORWARD", "1", "-j", PODS_CHAIN)


def delete_bridge(name: str) -> None:
    if bridge_exists(name):
        _run("ip", "link", "delete", name)


def netns_list() -> set[str]:
    try:
        return {entry.name for entry in NETNS_DIR.iterdir() if entry.name.startswith("cni-")}
    except FileNotFoundError:
        return set()


def remove_netns(names: set[str]) -> None:
    for name in names:
        path = NETNS_DIR / name
        _run("umount", str(path))
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()).rstrip("/") + "/"
    points = {p.mountpoint for p in psutil.disk_partitions(all=True) if (p.mountpoint + "/").startswith(prefix)}
    # Deepest first, so nested mounts go before their parents.
    return sorted(points, key=lambda m: m.count("/"), reverse=True)


def unmount_under(root: Path) -> list[str]:
    """Unmount everything below `root` (lazy as a last resort); returns what is still mounted."""
    for _ in range(3):
        points = mounts_under(root)
        if not points:
            return []
        for point in points:
            if _run("umount", point).returncode != 0:
                _run("umount", "-l", point)
    return mounts_under(root)


def _chains(tool: str, table: str) -> set[str]:
    result = _run(tool, "-w", "5", "-t", table, "-S")
    if result.returncode != 0:
        return set()
    return {line.split()[1] for line in result.stdout.splitlines() if line.startswith("-N KUBE-")}


def leftover_chains() -> list[str]:
    """`<tool>/<table>/<chain>` for every KUBE-* chain on this host."""
    found = []
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool) is None:
            continue
        for table in _TABLES:
            found += [f"{tool}/{table}/{chain}" for chain in sorted(_chains(tool, table))]
    return found


def remove_chains() -> None:
    """Delete every KUBE-* chain and the rules that jump to them, IPv4 and IPv6."""
    for tool in ("iptables", "ip6tables"):
        if shutil.which(tool) is None:
            continue
        for table in _TABLES:
            chains = _chains(tool, table)
            if not chains:
                continue
            rules = _run(tool, "-w", "5", "-t", table, "-S").stdout.splitlines()
            for rule in rules:
                parts = rule.split()
                if len(parts) > 2 and parts[0] == "-A" and "-j" in parts:
                    target = parts[parts.index("-j") + 1]
                    if target in chains and parts[1] not in chains:
                        _run(tool, "-w", "5", "-t", table, "-D", *parts[1:])
            for chain in chains:
                _run(tool, "-w", "5", "-t", table, "-F", chain)
            for chain in chains:
                _run(tool, "-w", "5", "-t", table, "-X", chain)


def cni_cache_entries(network: str) -> list[Path]:
    """libcni's cached results for our network (it keeps them under /var/lib/cni)."""
    root = Path("/var/lib/cni/results")
    try:
        return [p for p in root.iterdir() if p.name.startswith(f"{network}-")]
    except FileNotFoundError:
        return []


def remove_cni_cache(network: str) -> None:
    for path in cni_cache_entries(network):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
