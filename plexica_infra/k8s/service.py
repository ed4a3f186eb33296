"""The plugin Service: ClusterIP on the plugin port, as in the guide."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels, selector_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name
from plexica_infra.manifest import PluginManifest

__all__ = ["service"]


def service(manifest: PluginManifest, stack: StackConfig) -> K8sObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_metadata(object_name(manifest.id), stack.namespace, plugin_labels(manifest)),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(manifest),
            "ports": [{"name": "http", "port": manifest.deployment.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }
