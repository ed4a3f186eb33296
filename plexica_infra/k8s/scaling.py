"""How many pods a plugin runs, and who decides: the stack, the manifest or an HPA."""

from __future__ import annotations

from dataclasses import dataclass

from plexica_infra.config import StackConfig
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import effective_replicas, explicit_replicas

__all__ = ["ScalePlan", "effective_replicas", "scale_plan"]


@dataclass(frozen=True)
class ScalePlan:
    #: Deployment `spec.replicas`; None when an HPA owns the count, so that
    #: `pulumi up` never resets what the HPA scaled to.
    replicas: int | None
    autoscaled: bool
    min_replicas: int
    max_replicas: int

    @property
    def may_run_several(self) -> bool:
        """More than one pod at some point: spread them across nodes."""
        return self.max_replicas > 1

    @property
    def always_several(self) -> bool:
        """At least two pods at all times: a PodDisruptionBudget can keep one up."""
        return self.min_replicas >= 2


def scale_plan(manifest: PluginManifest, stack: StackConfig) -> ScalePlan:
    autoscaling = manifest.deployment.autoscaling
    if not (stack.kubernetes.autoscaling and autoscaling.enabled):
        replicas = effective_replicas(manifest, stack)
        return ScalePlan(replicas=replicas, autoscaled=False, min_replicas=replicas, max_replicas=replicas)
    # Explicit replicas (stack override or manifest) raise the HPA's floor, so an operator
    # can add capacity without editing the manifest; the stack-wide default does not.
    floor = explicit_replicas(manifest, stack) or 0
    minimum = max(autoscaling.min_replicas, floor)
    return ScalePlan(
        replicas=None,
        autoscaled=True,
        min_replicas=minimum,
        max_replicas=max(autoscaling.max_replicas, minimum),
    )
