"""`deploy_kubernetes`: the Kubernetes target's entry point (`plexica_infra.target.KubernetesTarget`)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.errors import StackConfigError
from plexica_infra.k8s.names import object_name
from plexica_infra.k8s.platform import KubernetesPlatform, KubernetesPlatformArgs
from plexica_infra.k8s.plugin import KubernetesPlugin, KubernetesPluginArgs
from plexica_infra.loader import LoadedPlugin

__all__ = ["deploy_kubernetes"]


def deploy_kubernetes(
    plugins: Sequence[LoadedPlugin],
    stack: StackConfig,
    secrets: StackSecrets,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, KubernetesPlugin]:
    """Deploy every plugin into the stack's namespace; returns the components by plugin id.

    `plugins` come in dependency order, as the loader's `require_plugins` returns them
    (it refuses unknown dependencies and cycles before anything is created); each plugin's
    component waits for the components of its `dependencies`.
    """
    if stack.target != "kubernetes":
        raise StackConfigError(f"plexica:target is {stack.target!r}; the Kubernetes deployment needs 'kubernetes'")
    platform = KubernetesPlatform(
        stack.namespace, KubernetesPlatformArgs(stack, secrets, [p.manifest for p in plugins]), opts
    )
    deployed: dict[str, KubernetesPlugin] = {}
    for plugin in plugins:
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
