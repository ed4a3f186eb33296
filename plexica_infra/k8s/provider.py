"""Arguments of the stack's Kubernetes provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plexica_infra.config import KubernetesSettings

__all__ = ["kubeconfig_path", "provider_args"]


def kubeconfig_path(settings: KubernetesSettings, project_dir: Path | None = None) -> str | None:
    """The stack's kubeconfig as an absolute path (relative ones are from the project directory)."""
    if settings.kubeconfig is None:
        return None
    path = Path(settings.kubeconfig).expanduser()
    return str(path if path.is_absolute() else (project_dir or Path.cwd()) / path)


def provider_args(settings: KubernetesSettings) -> dict[str, Any]:
    """The kubeconfig file and context, and the render directory for cluster-less runs.

    Unset values are left out, so the provider falls back to its own defaults
    (KUBECONFIG, the current context).
    """
    args: dict[str, Any] = {}
    if settings.kubeconfig_context is not None:
        args["context"] = settings.kubeconfig_context
    kubeconfig = kubeconfig_path(settings)
    if kubeconfig is not None:
        args["kubeconfig"] = kubeconfig
    if settings.render_yaml_to is not None:
        args["render_yaml_to_directory"] = settings.render_yaml_to
    return args
