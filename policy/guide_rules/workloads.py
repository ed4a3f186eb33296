"""The replica rules (`hpa-min-replicas`, `hpa-owns-replicas`) and the stack rule that
every plugin Deployment has its NetworkPolicy and PodDisruptionBudget
(`plugin-network-policy-and-pdb`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._common import (
    HPA_TYPES,
    K8S_DEPLOYMENT,
    K8S_NETWORK_POLICY,
    K8S_PDB,
    UNKNOWN,
    Messages,
    StackResource,
    as_int,
    get,
    name_of,
)

__all__ = ["check_hpa_min_replicas", "check_hpa_owns_replicas", "check_plugin_companions"]


# -- hpa-min-replicas ------------------------------------------------------------------
def check_hpa_min_replicas(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ not in HPA_TYPES:
        return []
    floor = int(config.get("minReplicas", 1))
    current = get(props, "spec", "minReplicas")
    if current == UNKNOWN:
        return []
    current = 1 if current is None else int(current)
    if current >= floor:
        return []
    return [
        f"HorizontalPodAutoscaler {name_of(props, name)} has minReplicas {as_int(current)}; this stack needs at least "
        f"{floor}: set deployment.autoscaling.minReplicas to {floor} or more"
    ]


# -- plugin-network-policy-and-pdb -----------------------------------------------------
def _labels_match(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A label selector's matchLabels against a pod template's labels (empty selector: all pods)."""
    match = get(selector, "matchLabels") or {}
    if not isinstance(match, Mapping):
        return False
    return all(labels.get(k) == v for k, v in match.items())


def _plugin_deployments(resources: Sequence[StackResource]) -> Iterator[tuple[StackResource, Mapping[str, Any]]]:
    for r in resources:
        if r.type != K8S_DEPLOYMENT:
            continue
        labels = get(r.props, "spec", "template", "metadata", "labels")
        if isinstance(labels, Mapping) and labels.get("component") == "plugin":
            yield r, labels


def check_plugin_companions(resources: Sequence[StackResource], config: Mapping[str, Any]) -> Messages:
    policies = [r for r in resources if r.type == K8S_NETWORK_POLICY]
    budgets = [r for r in resources if r.type == K8S_PDB]
    problems: Messages = []
    for deployment, labels in _plugin_deployments(resources):
        name = name_of(deployment.props, deployment.name)
        plugin = labels.get("plugin", name)
        if config.get("requireNetworkPolicy", True) and not any(
            _labels_match(get(p.props, "spec", "podSelector"), labels) for p in policies
        ):
            problems.append(
                f"plugin Deployment {name} has no NetworkPolicy selecting its pods; add one for plugin {plugin!r} "
                "(the k8s target creates plugin-<id>-network-policy)"
            )
        if config.get("requirePdb", True) and not any(
            _labels_match(get(b.props, "spec", "selector"), labels) for b in budgets
        ):
            problems.append(
                f"plugin Deployment {name} has no PodDisruptionBudget selecting its pods; run at least 2 replicas "
                f"of plugin {plugin!r} (deployment.autoscaling.minReplicas or replicas) so one is created"
            )
    return problems


# -- hpa-owns-replicas -----------------------------------------------------------------
def check_hpa_owns_replicas(resources: Sequence[StackResource], config: Mapping[str, Any]) -> Messages:
    deployments = {
        (get(r.props, "metadata", "namespace"), name_of(r.props, r.name)): r
        for r in resources
        if r.type == K8S_DEPLOYMENT
    }
    problems: Messages = []
    for hpa in (r for r in resources if r.type in HPA_TYPES):
        target = get(hpa.props, "spec", "scaleTargetRef")
        if get(target, "kind") != "Deployment":
            continue
        key = (get(hpa.props, "metadata", "namespace"), get(target, "name"))
        deployment = deployments.get(key)
        if deployment is None:
            continue
        replicas = get(deployment.props, "spec", "replicas")
        if replicas is not None and replicas != UNKNOWN:
            problems.append(
                f"Deployment {key[1]} sets spec.replicas {as_int(replicas)} while HorizontalPodAutoscaler "
                f"{name_of(hpa.props, hpa.name)} scales it; leave spec.replicas unset so `pulumi up` never resets "
                "the autoscaler's count"
            )
    return problems
