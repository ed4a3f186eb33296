"""Config files and command lines of the cluster's processes (pure: no process is started here).

Facts this encodes, each found by running it on a cgroup v1 host whose root lacks
CAP_SYS_RESOURCE, next to a Docker engine's own containerd:

- containerd's CRI plugin needs `restrict_oom_score_adj = true`, or every sandbox
  fails with runc's "can't get final child's PID from pipe";
- containerd, runc, the CNI state and the kubelet get their own directories, and
  containerd its own socket, so the Docker engine's containerd is never touched;
- the kubelet needs `cgroupDriver: cgroupfs`, `failSwapOn: false` and
  `failCgroupV1: false`; the API server needs a kubelet client certificate and
  `--kubelet-preferred-address-types` to reach the kubelet for logs and exec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from plexica_infra.localenv.cluster._images import PAUSE_IMAGE
from plexica_infra.localenv.cluster._layout import Addresses, ClusterPaths
from plexica_infra.localenv.cluster._pki import ClientIdentity, Pki

__all__ = ["CLIENTS", "CNI_BIN_DIR", "Component", "components", "write_configs"]

CNI_BIN_DIR = "/usr/lib/cni"

#: Client certificates: file name, user, groups (the API server's default RBAC knows these users).
CLIENTS = (
    ClientIdentity("admin", "plexica-admin", ("system:masters",)),
    ClientIdentity("controller-manager", "system:kube-controller-manager"),
    ClientIdentity("scheduler", "system:kube-scheduler"),
    ClientIdentity("kube-proxy", "system:kube-proxy"),
    ClientIdentity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
)


def kubelet_client(addresses: Addresses) -> ClientIdentity:
    return ClientIdentity("kubelet", f"system:node:{addresses.node_name}", ("system:nodes",))


@dataclass(frozen=True)
class Component:
    """One process of the cluster, in start order."""

    name: str
    argv: tuple[str, ...]


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def containerd_config(paths: ClusterPaths) -> str:
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    runc = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]'
    return "\n".join(
        [
            "version = 2",
            f"root = {_toml_str(str(paths.containerd / 'root'))}",
            f"state = {_toml_str(str(paths.containerd / 'state'))}",
            "[grpc]",
            f"  address = {_toml_str(str(paths.containerd_socket))}",
            "[ttrpc]",
            f"  address = {_toml_str(str(paths.containerd_socket) + '.ttrpc')}",
            "[debug]",
            '  address = ""',
            "[metrics]",
            '  address = ""',
            '[plugins."io.containerd.internal.v1.opt"]',
            f"  path = {_toml_str(str(paths.containerd / 'opt'))}",
            cri,
            f"  sandbox_image = {_toml_str(PAUSE_IMAGE)}",
            "  restrict_oom_score_adj = true",
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            "  enable_selinux = false",
            '[plugins."io.containerd.grpc.v1.cri".containerd]',
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            runc,
            '  runtime_type = "io.containerd.runc.v2"',
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
            f"  Root = {_toml_str(str(paths.runc_root))}",
            "  SystemdCgroup = false",
            '[plugins."io.containerd.grpc.v1.cri".cni]',
            f"  bin_dir = {_toml_str(CNI_BIN_DIR)}",
            f"  conf_dir = {_toml_str(str(paths.cni_conf))}",
            "  max_conf_num = 1",
            "",
        ]
    )


def cni_config(paths: ClusterPaths, addresses: Addresses) -> dict[str, object]:
    return {
        "cniVersion": "1.0.0",
        "name": addresses.cni_network,
        "plugins": [
            {
                "type": "bridge",
                "bridge": addresses.bridge,
                "isGateway": True,
                # Pods talk to each other and to the host only: no masquerading rules.
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": addresses.pod_cidr, "gateway": addresses.bridge_ip}]],
                    # Service IPs are reached through the gateway (the host, where kube-proxy's rules are).
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(paths.cni_ipam),
                },
            }
        ],
    }


def kubelet_config(pki: Pki, paths: ClusterPaths, addresses: Addresses) -> dict[str, object]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": addresses.listen_ip,
        "port": addresses.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": addresses.kubelet_healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki.cert("kubelet-serving")),
        "tlsPrivateKeyFile": str(pki.key("kubelet-serving")),
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        "failCgroupV1": False,
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "clusterDomain": addresses.cluster_domain,
        "clusterDNS": [addresses.bridge_ip],
        "podCIDR": addresses.pod_cidr,
        "maxPods": 110,
        "serializeImagePulls": False,
        # A shared development disk: never evict or garbage-collect our imported images.
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "nodeStatusUpdateFrequency": "4s",
        "syncFrequency": "10s",
        "shutdownGracePeriod": "0s",
        "protectKernelDefaults": False,
        "staticPodPath": "",
        # Pod logs stay under the cluster directory (the default is /var/log/pods).
        "podLogsDir": str(paths.kubelet / "pod-logs"),
    }


def kube_proxy_config(paths: ClusterPaths, addresses: Addresses) -> dict[str, object]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": f"127.0.0.1:{addresses.proxy_healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{addresses.proxy_metrics_port}",
        "clientConnection": {"kubeconfig": str(paths.kubeconfigs / "kube-proxy.kubeconfig")},
        "clusterCIDR": addresses.pod_cidr,
        "hostnameOverride": addresses.node_name,
        # Leave the host's conntrack sysctls alone.
        "conntrack": {"maxPerCore": 0, "min": 0},
        "iptables": {"localhostNodePorts": False, "syncPeriod": "10s", "minSyncPeriod": "0s"},
        "nodePortAddresses": ["127.0.0.1/32"],
    }


def write_configs(pki: Pki, paths: ClusterPaths, addresses: Addresses) -> None:
    for directory in (paths.config, paths.cni_conf, paths.cni_ipam, paths.containerd, paths.kubelet, paths.logs):
        directory.mkdir(parents=True, exist_ok=True)
    paths.containerd_config.write_text(containerd_config(paths))
    (paths.cni_conf / "10-plexica.conflist").write_text(json.dumps(cni_config(paths, addresses), indent=2))
    (paths.config / "kubelet.yaml").write_text(yaml.safe_dump(kubelet_config(pki, paths, addresses)))
    (paths.config / "kube-proxy.yaml").write_text(yaml.safe_dump(kube_proxy_config(paths, addresses)))


def components(bin_dir: Path, pki: Pki, paths: ClusterPaths, addresses: Addresses) -> list[Component]:
    """Every process, in start order (each waits for the one before it to answer)."""
    a = addresses
    kc = paths.kubeconfigs
    etcd = Component(
        "etcd",
        (
            str(bin_dir / "etcd"),
            "--name=plexica",
            f"--data-dir={paths.etcd_data}",
            f"--listen-client-urls={a.etcd_url}",
            f"--advertise-client-urls={a.etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{a.etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{a.etcd_peer_port}",
            f"--initial-cluster=plexica=http://127.0.0.1:{a.etcd_peer_port}",
            # A throwaway development cluster: trade durability for speed.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ),
    )
    apiserver = Component(
        "kube-apiserver",
        (
            str(bin_dir / "kube-apiserver"),
            f"--etcd-servers={a.etcd_url}",
            f"--bind-address={a.listen_ip}",
            f"--advertise-address={a.node_ip}",
            f"--secure-port={a.apiserver_port}",
            f"--tls-cert-file={pki.cert('apiserver')}",
            f"--tls-private-key-file={pki.key('apiserver')}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-account-issuer=https://kubernetes.default.svc.{a.cluster_domain}",
            f"--service-cluster-ip-range={a.service_cidr}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
            f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
            f"--kubelet-certificate-authority={pki.ca_cert}",
            # The kubelet listens on 127.0.0.1 only: reach it by the node's Hostname (localhost).
            "--kubelet-preferred-address-types=Hostname",
            "--profiling=false",
            "--v=0",
        ),
    )
    controller_manager = Component(
        "kube-controller-manager",
        (
            str(bin_dir / "kube-controller-manager"),
            f"--kubeconfig={kc / 'controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={kc / 'controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={kc / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={a.controller_manager_port}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.key('ca')}",
            f"--root-ca-file={pki.ca_cert}",
            f"--service-account-private-key-file={pki.sa_key}",
            "--use-service-account-credentials=true",
            # The HPA raises a new Deployment to its floor within seconds, not 15 s.
            "--horizontal-pod-autoscaler-sync-period=5s",
            "--leader-elect=false",
            "--profiling=false",
            "--v=0",
        ),
    )
    scheduler = Component(
        "kube-scheduler",
        (
            str(bin_dir / "kube-scheduler"),
            f"--kubeconfig={kc / 'scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={kc / 'scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={kc / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={a.scheduler_port}",
            "--leader-elect=false",
            "--profiling=false",
            "--v=0",
        ),
    )
    containerd = Component("containerd", ("containerd", f"--config={paths.containerd_config}"))
    kubelet = Component(
        "kubelet",
        (
            str(bin_dir / "kubelet"),
            f"--config={paths.config / 'kubelet.yaml'}",
            f"--kubeconfig={kc / 'kubelet.kubeconfig'}",
            f"--root-dir={paths.kubelet}",
            f"--hostname-override={a.node_name}",
            f"--node-ip={a.node_ip}",
            "--v=0",
        ),
    )
    proxy = Component(
        "kube-proxy",
        (str(bin_dir / "kube-proxy"), f"--config={paths.config / 'kube-proxy.yaml'}", "--v=0"),
    )
    return [etcd, apiserver, controller_manager, scheduler, containerd, kubelet, proxy]
