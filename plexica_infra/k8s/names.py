"""Object names and in-cluster addresses, in the guide's vocabulary (`plugin-<id>`).

Names are fixed rather than auto-suffixed so that the Service DNS name the Core API
registers (`plugin-<id>.<namespace>.svc.cluster.local`) never changes between deploys,
and so that objects created by hand from the guide are the same objects.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "K8sObject",
    "hpa_name",
    "network_policy_name",
    "object_metadata",
    "object_name",
    "pdb_name",
    "service_dns",
    "service_url",
]

#: A Kubernetes object exactly as it will be applied (camelCase keys).
K8sObject = dict[str, Any]


def object_name(plugin_id: str) -> str:
    """Deployment, Service, ServiceAccount and container name: the guide's `plugin-<id>`."""
    return f"plugin-{plugin_id}"


def network_policy_name(plugin_id: str) -> str:
    return f"plugin-{plugin_id}-network-policy"


def hpa_name(plugin_id: str) -> str:
    return f"plugin-{plugin_id}-hpa"


def pdb_name(plugin_id: str) -> str:
    return f"plugin-{plugin_id}-pdb"


def service_dns(plugin_id: str, namespace: str) -> str:
    return f"{object_name(plugin_id)}.{namespace}.svc.cluster.local"


def service_url(plugin_id: str, namespace: str, port: int) -> str:
    return f"http://{service_dns(plugin_id, namespace)}:{port}"


def object_metadata(name: str, namespace: str, labels: dict[str, str]) -> K8sObject:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}
