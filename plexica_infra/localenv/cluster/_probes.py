"""Is each part of the local cluster up? Small probes over HTTPS, HTTP and `ctr`."""

from __future__ import annotations

import ssl
import subprocess
from typing import Any

import httpx

from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths
from plexica_infra.localenv.cluster._pki import Pki

__all__ = ["admin_client", "apiserver_ready", "containerd_ready", "ctr", "node_ready", "ready_check", "tasks"]


def admin_client(pki: Pki) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    return httpx.Client(verify=context, timeout=3.0)


def _http_ok(url: str, **kwargs: Any) -> bool:
    try:
        with httpx.Client(timeout=2.0, **kwargs) as client:
            return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def apiserver_ready(pki: Pki) -> bool:
    try:
        with admin_client(pki) as client:
            return client.get(f"{ADDRESSES.apiserver_url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def node_ready(pki: Pki) -> bool:
    try:
        with admin_client(pki) as client:
            node = client.get(f"{ADDRESSES.apiserver_url}/api/v1/nodes/{ADDRESSES.node_name}")
    except httpx.HTTPError:
        return False
    if node.status_code != 200:
        return False
    conditions = node.json().get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ctr(paths: ClusterPaths) -> list[str]:
    return ["ctr", "--address", str(paths.containerd_socket)]


def containerd_ready(paths: ClusterPaths) -> bool:
    if not paths.containerd_socket.exists():
        return False
    return subprocess.run([*ctr(paths), "version"], capture_output=True, check=False).returncode == 0


def ready_check(name: str, pki: Pki, paths: ClusterPaths) -> Any:
    a = ADDRESSES
    insecure = {"verify": False}
    checks: dict[str, Any] = {
        "etcd": lambda: _http_ok(f"{a.etcd_url}/health"),
        "kube-apiserver": lambda: apiserver_ready(pki),
        "kube-controller-manager": lambda: _http_ok(
            f"https://127.0.0.1:{a.controller_manager_port}/healthz", **insecure
        ),
        "kube-scheduler": lambda: _http_ok(f"https://127.0.0.1:{a.scheduler_port}/healthz", **insecure),
        "containerd": lambda: containerd_ready(paths),
        "kubelet": lambda: node_ready(pki),
        "kube-proxy": lambda: _http_ok(f"http://127.0.0.1:{a.proxy_healthz_port}/healthz"),
        "dns": lambda: True,
    }
    return checks[name]


def tasks(paths: ClusterPaths) -> list[str]:
    result = subprocess.run(
        [*ctr(paths), "-n", "k8s.io", "tasks", "ls", "-q"], capture_output=True, text=True, check=False
    )
    return result.stdout.split() if result.returncode == 0 else []
