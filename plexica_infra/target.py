"""Where plugins run: one `Target` per value of `plexica:target`, behind one protocol.

A target turns the validated plugin set, in the loader's dependency order, into its
components, and hands the Core API side what it needs of each plugin as
`PluginEndpoints`. `__main__.py` asks `target_for(stack)` and never branches on the
target itself.

Each target's modules load only when it deploys, so a Docker stack never imports the
Kubernetes SDK and the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from plexica_infra.config import StackConfig, StackSecrets, TargetName

if TYPE_CHECKING:
    import pulumi

    from plexica_infra.loader import LoadedPlugin

__all__ = ["DockerTarget", "KubernetesTarget", "PluginEndpoints", "Target", "target_for"]


@dataclass(frozen=True)
class PluginEndpoints:
    """What a target component exposes to the Core API side.

    `gate_urls` are where `pulumi up` itself can reach every instance (the health gate);
    `registry_urls` are where the Core API reaches them (service registry, install's
    health check, the gateway). They differ when the Core API runs in a container.
    `revision` changes whenever the instances are replaced, so the gate runs again;
    `gate` is false where the target's own rollout await is the gate; `target` is the
    component the Core API side waits for.
    """

    gate_urls: pulumi.Output[list[str]]
    registry_urls: pulumi.Output[list[str]]
    revision: pulumi.Output[str] | None = None
    gate: bool = True
    target: pulumi.Resource | None = None


class Target(Protocol):
    """A place plugins run."""

    def deploy(
        self, plugins: Sequence[LoadedPlugin], stack: StackConfig, secrets: StackSecrets
    ) -> dict[str, PluginEndpoints]:
        """Create every plugin's components, `plugins` in dependency order (as `require_plugins`
        returns them); returns each plugin's endpoints by plugin id."""
        ...


@dataclass(frozen=True)
class DockerTarget:
    """Containers on a Docker engine (`local`, `dev`).

    The health gate probes the instances on their published host ports; the Core API
    reaches them where `plexica:docker.registryEndpoints` says.
    """

    def deploy(
        self, plugins: Sequence[LoadedPlugin], stack: StackConfig, secrets: StackSecrets
    ) -> dict[str, PluginEndpoints]:
        from plexica_infra.docker.program import deploy_docker

        return {
            plugin_id: PluginEndpoints(
                gate_urls=plugin.instance_urls,
                registry_urls=plugin.registry_urls,
                revision=plugin.revision,
                gate=True,
                target=plugin,
            )
            for plugin_id, plugin in deploy_docker(plugins, stack, secrets).items()
        }


@dataclass(frozen=True)
class KubernetesTarget:
    """Deployments in a cluster (`prod`, `kube`).

    Cluster DNS names are not reachable from where `pulumi up` runs, so the Deployment's
    own readiness await is the gate; the Core API reaches the Service's DNS name.
    """

    def deploy(
        self, plugins: Sequence[LoadedPlugin], stack: StackConfig, secrets: StackSecrets
    ) -> dict[str, PluginEndpoints]:
        from plexica_infra.k8s.program import deploy_kubernetes

        return {
            plugin_id: PluginEndpoints(
                gate_urls=plugin.instance_urls, registry_urls=plugin.instance_urls, gate=False, target=plugin
            )
            for plugin_id, plugin in deploy_kubernetes(plugins, stack, secrets).items()
        }


_TARGETS: dict[TargetName, Target] = {"docker": DockerTarget(), "kubernetes": KubernetesTarget()}


def target_for(stack: StackConfig) -> Target:
    """The target of the stack's `plexica:target`."""
    return _TARGETS[stack.target]
