"""Alerts per plugin (the guide's FAQ: "alerts for health check failures, high
CPU/memory, error rates"), as a Prometheus Operator PrometheusRule.

Thresholds are the guide's auto-scaling figures: CPU above 80 % and memory above
85 % of the plugin's limit, each for 5 minutes. The limit is written into the
expression from the manifest, so the rules need cAdvisor metrics only; readiness
comes from kube-state-metrics and the 5xx rate from the plugin's own
`http_requests_total{status_code}` (the guide's metrics contract).
"""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name
from plexica_infra.manifest import PluginManifest
from plexica_infra.quantities import docker_cpus

__all__ = ["ALERT_FOR", "CPU_ALERT_RATIO", "ERROR_RATE_ALERT_RATIO", "MEMORY_ALERT_RATIO", "prometheus_rule"]

CPU_ALERT_RATIO = 0.80
MEMORY_ALERT_RATIO = 0.85
#: One request in twenty failing with a 5xx.
ERROR_RATE_ALERT_RATIO = 0.05
ALERT_FOR = "5m"


def _alert(name: str, expr: str, severity: str, summary: str, plugin_id: str) -> K8sObject:
    return {
        "alert": name,
        "expr": expr,
        "for": ALERT_FOR,
        "labels": {"severity": severity, "plugin": plugin_id},
        "annotations": {"summary": summary},
    }


def _rules(manifest: PluginManifest, namespace: str) -> list[K8sObject]:
    plugin_id = manifest.id
    name = object_name(plugin_id)
    container = f'namespace="{namespace}", container="{name}"'
    job = f'namespace="{namespace}", job="{name}"'
    resources = manifest.runtime.resources
    return [
        _alert(
            "PluginNotReady",
            f"max by (pod) (kube_pod_container_status_ready{{{container}}}) == 0",
            "warning",
            f"A pod of plugin {plugin_id} has failed its readiness probe for {ALERT_FOR}.",
            plugin_id,
        ),
        _alert(
            "PluginHighCpu",
            f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}[5m])) "
            f"/ {docker_cpus(resources.cpu_millicores)} > {CPU_ALERT_RATIO}",
            "warning",
            f"A pod of plugin {plugin_id} uses more than {CPU_ALERT_RATIO:.0%} of its CPU limit.",
            plugin_id,
        ),
        _alert(
            "PluginHighMemory",
            f"max by (pod) (container_memory_working_set_bytes{{{container}}}) "
            f"/ {resources.memory_bytes} > {MEMORY_ALERT_RATIO}",
            "warning",
            f"A pod of plugin {plugin_id} uses more than {MEMORY_ALERT_RATIO:.0%} of its memory limit.",
            plugin_id,
        ),
        _alert(
            "PluginHigh5xxRate",
            f'sum(rate(http_requests_total{{{job}, status_code=~"5.."}}[5m])) '
            f"/ sum(rate(http_requests_total{{{job}}}[5m])) > {ERROR_RATE_ALERT_RATIO}",
            "critical",
            f"More than {ERROR_RATE_ALERT_RATIO:.0%} of plugin {plugin_id}'s requests fail with a 5xx.",
            plugin_id,
        ),
    ]


def prometheus_rule(manifest: PluginManifest, stack: StackConfig) -> K8sObject:
    labels = plugin_labels(manifest) | stack.kubernetes.monitoring_labels
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": object_metadata(f"{object_name(manifest.id)}-alerts", stack.namespace, labels),
        "spec": {"groups": [{"name": object_name(manifest.id), "rules": _rules(manifest, stack.namespace)}]},
    }
