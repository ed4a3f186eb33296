"""The plugins' namespace, when the stack creates it (`createNamespace`)."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import platform_labels
from plexica_infra.k8s.names import K8sObject

__all__ = ["namespace"]


def namespace(stack: StackConfig) -> K8sObject | None:
    """None when the stack adopts an existing namespace: it is then not managed here
    (never deleted by `pulumi destroy`, its labels left alone)."""
    settings = stack.kubernetes
    if not settings.create_namespace:
        return None
    labels = platform_labels("namespace") | {
        "pod-security.kubernetes.io/enforce": settings.pod_security_enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": stack.namespace, "labels": labels}}
