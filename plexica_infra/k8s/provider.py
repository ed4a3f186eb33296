"""Arguments of the stack's Kubernetes provider."""

from __future__ import annotations

from typing import Any

from plexica_infra.k8s.settings import KubernetesSettings

__all__ = ["provider_args"]


def provider_args(settings: KubernetesSettings) -> dict[str, Any]:
    """The kubeconfig context, and the render directory for cluster-less runs.

    Unset values are left out, so the provider falls back to its own defaults
    (KUBECONFIG, the current context).
    """
    args: dict[str, Any] = {}
    if settings.kubeconfig_context is not None:
        args["context"] = settings.kubeconfig_context
    if settings.render_yaml_to is not None:
        args["render_yaml_to_directory"] = settings.render_yaml_to
    return args
