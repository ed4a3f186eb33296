"""A ServiceAccount per plugin, with no token and no role bindings.

Plugins never call the Kubernetes API; their own identity (instead of the
namespace's `default`) keeps any RBAC granted to `default` away from them.
"""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name
from plexica_infra.manifest import PluginManifest

__all__ = ["service_account"]


def service_account(manifest: PluginManifest, stack: StackConfig) -> K8sObject:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": object_metadata(object_name(manifest.id), stack.namespace, plugin_labels(manifest)),
        "automountServiceAccountToken": False,
    }
