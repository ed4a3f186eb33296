"""The Kubernetes target's entry point, called by the thin `__main__.py`."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.errors import StackConfigError
from plexica_infra.k8s.names import object_name
from plexica_infra.k8s.platform import KubernetesPlatform, KubernetesPlatformArgs
from plexica_infra.k8s.plugin import KubernetesPlugin, KubernetesPluginArgs
from plexica_infra.loader import LoadedPlugin, dependency_order

__all__ = ["deploy_kubernetes"]


def deploy_kubernetes(
    plugins: Sequence[LoadedPlugin],
    stack: StackConfig,
    secrets: StackSecrets,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, KubernetesPlugin]:
    """Deploy every plugin into the stack's namespace; returns the components by plugin id.

    Each plugin's component waits for the components of its `dependencies`, in the
    loader's `dependency_order`.
    """
    if stack.target != "kubernetes":
        raise StackConfigError(f"plexica:target is {stack.target!r}; the Kubernetes deployment needs 'kubernetes'")
    # The loader decides the order, and refuses unknown dependencies and cycles before
    # anything is created.
    ordered = dependency_order(plugins)
    platform = KubernetesPlatform(
        stack.namespace, KubernetesPlatformArgs(stack, secrets, [p.manifest for p in plugins]), opts
    )
    deployed: dict[str, KubernetesPlugin] = {}
    for plugin in ordered:
        manifest = plugin.manifest
        dependents = [p.manifest for p in plugins if manifest.id in p.manifest.dependency_ids]
        deployed[manifest.id] = KubernetesPlugin(
            object_name(manifest.id),
            KubernetesPluginArgs(
                manifest,
                stack,
                platform,
                dependencies=[deployed[dep] for dep in manifest.dependency_ids],
                dependents=dependents,
            ),
            opts,
        )
    return deployed
