"""The local cluster itself: real processes on loopback, a real node, idempotent start."""

from __future__ import annotations

import ssl

import httpx
import pytest
from lightkube import Client, KubeConfig
from lightkube.resources.core_v1 import Node

from plexica_infra.localenv.cluster import ADDRESSES, ClusterInfo, cluster_paths, cluster_status, cluster_up
from plexica_infra.localenv.ephemeral_kube import STATE_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]


def test_cluster_up_again_reuses_the_running_cluster(cluster: ClusterInfo) -> None:
    again = cluster_up(STATE_DIR, progress=lambda _m: None)
    assert again.started is False
    assert again.kubeconfig == cluster.kubeconfig
    status = cluster_status(STATE_DIR)
    assert status["running"] and status["answering"]
    assert set(status["processes"]) >= {"etcd", "kube-apiserver", "kubelet", "kube-proxy", "containerd"}


def test_node_is_ready_and_versions_are_stamped(cluster: ClusterInfo) -> None:
    client = Client(KubeConfig.from_file(str(cluster.kubeconfig)))
    node = client.get(Node, ADDRESSES.node_name)
    assert node.status is not None and node.status.nodeInfo is not None
    assert node.status.nodeInfo.kubeletVersion == "v1.36.1"
    assert node.status.nodeInfo.containerRuntimeVersion.startswith("containerd://1.6")
    assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
    pki = cluster_paths(STATE_DIR).pki
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    version = httpx.get(f"{ADDRESSES.apiserver_url}/version", verify=context)
    assert version.json()["gitVersion"] == "v1.36.1"


def test_api_server_refuses_clients_without_a_certificate(cluster: ClusterInfo) -> None:
    pki = cluster_paths(STATE_DIR).pki
    response = httpx.get(
        f"{ADDRESSES.apiserver_url}/api/v1/namespaces", verify=ssl.create_default_context(cafile=str(pki / "ca.crt"))
    )
    assert response.status_code in (401, 403)


def test_every_listener_is_on_loopback(cluster: ClusterInfo) -> None:
    import psutil

    status = cluster_status(STATE_DIR)
    assert status["running"]
    pids = {int(p) for p in _record_pids()}
    listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
    assert listening, "no listener found for the cluster's processes"
    # The cluster DNS answers on the pod bridge's own address, reachable only from pods.
    allowed = {"127.0.0.1", ADDRESSES.bridge_ip}
    assert {c.laddr[0] for c in listening if c.laddr} <= allowed, [c.laddr for c in listening]


def _record_pids() -> list[int]:
    import json

    record = json.loads(cluster_paths(STATE_DIR).record.read_text())
    return [int(entry["pid"]) for entry in record["processes"].values()]
