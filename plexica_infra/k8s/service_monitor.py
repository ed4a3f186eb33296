"""A Prometheus Operator ServiceMonitor per plugin (when `prometheusOperator` is on)."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels, selector_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name
from plexica_infra.k8s.scrape_config import SCRAPE_INTERVAL
from plexica_infra.manifest import PluginManifest

__all__ = ["service_monitor"]


def service_monitor(manifest: PluginManifest, stack: StackConfig) -> K8sObject:
    labels = plugin_labels(manifest) | stack.kubernetes.monitoring_labels
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": object_metadata(object_name(manifest.id), stack.namespace, labels),
        "spec": {
            # The plugin Service carries the selector labels; its port is named http.
            "selector": {"matchLabels": selector_labels(manifest)},
            "namespaceSelector": {"matchNames": [stack.namespace]},
            "endpoints": [
                {
                    "port": "http",
                    "path": manifest.deployment.metrics_path,
                    "interval": SCRAPE_INTERVAL,
                    "scheme": "http",
                }
            ],
        },
    }
