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

__all__ = [
    "FIELD_MANAGER_ANNOTATION",
    "PULUMI_FIELD_MANAGER",
    "check_hpa_min_replicas",
    "check_hpa_owns_replicas",
    "check_plugin_companions",
    "replicas_set_by_pulumi",
]


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
#: The field manager Pulumi's Kubernetes provider applies with: `pulumi-kubernetes` with
#: client-side apply, `pulumi-kubernetes-<random>` with server-side apply (kept in the
#: resource's state as `__fieldManager`), or whatever the object's
#: `pulumi.com/patchFieldManager` annotation names.
PULUMI_FIELD_MANAGER = "pulumi-kubernetes"
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
FIELD_MANAGER_STATE_KEY = "__fieldManager"


def _pulumi_managers(props: Mapping[str, Any]) -> set[str]:
    named = (get(props, "metadata", "annotations", FIELD_MANAGER_ANNOTATION), props.get(FIELD_MANAGER_STATE_KEY))
    return {PULUMI_FIELD_MANAGER, *(name for name in named if isinstance(name, str) and name and name != UNKNOWN)}


def _is_pulumi(manager: Any, pulumi: set[str]) -> bool:
    return isinstance(manager, str) and (manager in pulumi or manager.startswith(f"{PULUMI_FIELD_MANAGER}-"))


def replicas_set_by_pulumi(props: Mapping[str, Any]) -> Any:
    """`spec.replicas` where Pulumi sets it, else None.

    A live object (after `pulumi up`, or an existing one in a preview) always has
    `spec.replicas`: the API server defaults it and the autoscaler writes it. There
    `metadata.managedFields` says who owns it, and only a Pulumi field manager's counts.
    An object not created yet has no managedFields: what it holds are Pulumi's inputs.
    (With client-side apply, `kubernetes:enableServerSideApply: false`, not our setting,
    the API server records a defaulted `spec.replicas` under the creating manager; it
    reads as Pulumi's until the autoscaler first changes the count.)
    """
    replicas = get(props, "spec", "replicas")
    if replicas is None or replicas == UNKNOWN:
        return None
    entries = get(props, "metadata", "managedFields")
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        return replicas
    pulumi = _pulumi_managers(props)
    for entry in entries:
        if _is_pulumi(get(entry, "manager"), pulumi) and isinstance(
            get(entry, "fieldsV1", "f:spec", "f:replicas"), Mapping
        ):
            return replicas
    return None


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
        replicas = replicas_set_by_pulumi(deployment.props)
        if replicas is not None:
            problems.append(
                f"Deployment {key[1]} sets spec.replicas {as_int(replicas)} while HorizontalPodAutoscaler "
                f"{name_of(hpa.props, hpa.name)} scales it; leave spec.replicas unset so `pulumi up` never resets "
                "the autoscaler's count"
            )
    return problems
