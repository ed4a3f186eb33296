"""Where the local cluster keeps its files, and the addresses it uses.

Everything lives under `<state_dir>/cluster/`: certificates, kubeconfigs,
etcd's data, containerd's root/state/socket, runc's root, the CNI config and
IPAM state, the kubelet's root, logs, and `run.json` (what is running).
Every listener is on 127.0.0.1; the pod network exists only in the network
namespaces and the bridge created here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ADDRESSES", "Addresses", "ClusterPaths", "cluster_paths", "kube_bin_dir"]


@dataclass(frozen=True)
class Addresses:
    #: The kubelet refuses a loopback node IP, and the API server reaches the kubelet (logs,
    #: exec) by the node's Hostname address, which must resolve to where it listens:
    #: "localhost" resolves to 127.0.0.1 without touching /etc/hosts.
    node_name: str = "localhost"
    #: Every listener of ours binds this address.
    listen_ip: str = "127.0.0.1"
    #: The node's InternalIP (and the API server's advertised address): the pod bridge's own
    #: address, an interface of this host that only pods and the host reach. Nothing of the
    #: control plane listens on it; the kubernetes Service points at it for completeness.
    node_ip: str = "10.244.0.1"
    etcd_client_port: int = 12379
    etcd_peer_port: int = 12380
    apiserver_port: int = 16443
    controller_manager_port: int = 10257
    scheduler_port: int = 10259
    kubelet_port: int = 10250
    kubelet_healthz_port: int = 10248
    proxy_healthz_port: int = 10256
    proxy_metrics_port: int = 10249
    service_cidr: str = "10.96.0.0/16"
    #: The first address of service_cidr: the `kubernetes` Service.
    apiserver_service_ip: str = "10.96.0.1"
    pod_cidr: str = "10.244.0.0/24"
    #: The bridge's own address: pods' gateway, and where the cluster DNS answers.
    bridge_ip: str = "10.244.0.1"
    bridge: str = "plxk8s0"
    cni_network: str = "plexica-k8s"
    cluster_domain: str = "cluster.local"

    @property
    def apiserver_url(self) -> str:
        return f"https://{self.listen_ip}:{self.apiserver_port}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.etcd_client_port}"


ADDRESSES = Addresses()


@dataclass(frozen=True)
class ClusterPaths:
    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def kubeconfigs(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def containerd(self) -> Path:
        return self.root / "containerd"

    @property
    def containerd_config(self) -> Path:
        return self.containerd / "config.toml"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd / "containerd.sock"

    @property
    def runc_root(self) -> Path:
        return self.root / "runc"

    @property
    def cni_conf(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def kubelet(self) -> Path:
        return self.root / "kubelet"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def record(self) -> Path:
        return self.root / "run.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def runtime_dirs(self) -> tuple[Path, ...]:
        """Removed on cluster-down: a cluster starts empty (certificates and image archives stay)."""
        return (self.etcd_data, self.containerd, self.runc_root, self.root / "cni", self.kubelet, self.config)


def cluster_paths(state_dir: Path) -> ClusterPaths:
    return ClusterPaths(Path(state_dir).resolve() / "cluster")


def kube_bin_dir() -> Path:
    """Where the cluster's binaries are: `make setup` builds them into .tools/bin."""
    return Path(os.environ.get("PLEXICA_KUBE_BIN", str(Path(__file__).resolve().parents[3] / ".tools" / "bin")))
