"""The plugin PodDisruptionBudget: node drains take one pod at a time."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import plugin_labels, selector_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, pdb_name
from plexica_infra.k8s.scaling import scale_plan
from plexica_infra.manifest import PluginManifest

__all__ = ["pdb"]


def pdb(manifest: PluginManifest, stack: StackConfig) -> K8sObject | None:
    """None unless the plugin always runs at least two pods: with one pod a budget
    either blocks every drain or protects nothing."""
    if not scale_plan(manifest, stack).always_several:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": object_metadata(pdb_name(manifest.id), stack.namespace, plugin_labels(manifest)),
        "spec": {
            "selector": {"matchLabels": selector_labels(manifest)},
            # maxUnavailable rather than minAvailable: it stays "one pod at a time" at
            # any HPA scale, whereas minAvailable 1 would let a drain evict 9 of 10 pods
            # at once. At 2 replicas the two are the same.
            "maxUnavailable": 1,
            # A pod that is not Ready serves nothing; evicting it must never block a drain.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
