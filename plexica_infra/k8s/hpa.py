"""The plugin HorizontalPodAutoscaler: the guide's "Auto-Scaling" example."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels
from plexica_infra.k8s.names import K8sObject, hpa_name, object_metadata, object_name
from plexica_infra.k8s.scaling import scale_plan
from plexica_infra.manifest import PluginManifest

__all__ = ["hpa"]


def _utilization(resource: str, percent: int) -> K8sObject:
    return {
        "type": "Resource",
        "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": percent}},
    }


def hpa(manifest: PluginManifest, stack: StackConfig) -> K8sObject | None:
    """None when the manifest or the stack turns autoscaling off."""
    plan = scale_plan(manifest, stack)
    if not plan.autoscaled:
        return None
    autoscaling = manifest.deployment.autoscaling
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": object_metadata(hpa_name(manifest.id), stack.namespace, plugin_labels(manifest)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": object_name(manifest.id)},
            "minReplicas": plan.min_replicas,
            "maxReplicas": plan.max_replicas,
            "metrics": [
                _utilization("cpu", autoscaling.cpu_utilization),
                _utilization("memory", autoscaling.memory_utilization),
            ],
            # The guide's behavior: scale down slowly (5 min window, half the pods per
            # minute at most), scale up fast (1 min window, doubling every 30 s).
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
                },
                "scaleUp": {
                    "stabilizationWindowSeconds": 60,
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}],
                },
            },
        },
    }
