"""Turns a built object into the matching pulumi-kubernetes resource.

Typed resources (not `ConfigGroup`) so that Pulumi awaits each kind properly (a
Deployment is done when its rollout is) and previews show per-object diffs.
Object keys are already the API's camelCase, which the SDK passes through as is.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from plexica_infra.k8s.names import K8sObject

__all__ = ["create_resource", "metadata_name"]

_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
}

_ARGUMENTS = {
    "metadata": "metadata",
    "spec": "spec",
    "data": "data",
    "stringData": "string_data",
    "type": "type",
    "automountServiceAccountToken": "automount_service_account_token",
}


def create_resource(obj: K8sObject, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create `obj` under its own metadata.name (unique per kind within the stack's namespace)."""
    name: str = obj["metadata"]["name"]
    body = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
    resource_type = _TYPED.get((obj["apiVersion"], obj["kind"]))
    if resource_type is None:
        # A custom resource (ServiceMonitor, PrometheusRule): fields pass through.
        custom: pulumi.CustomResource = k8s.apiextensions.CustomResource(
            name, api_version=obj["apiVersion"], kind=obj["kind"], opts=opts, **body
        )
        return custom
    typed: pulumi.CustomResource = resource_type(
        name, opts=opts, **{_ARGUMENTS[key]: value for key, value in body.items()}
    )
    return typed


def metadata_name(resource: pulumi.CustomResource) -> pulumi.Output[str]:
    """The object's name as an Output, so whoever uses it waits for the object."""
    metadata: pulumi.Output[Any] = resource.metadata  # type: ignore[attr-defined]
    return metadata.apply(lambda meta: str(meta["name"] if isinstance(meta, dict) else meta.name))
