"""`deploy_docker`: every plugin of a `target: docker` stack, in the loader's dependency order."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.docker.labels import stack_identity
from plexica_infra.docker.platform import DockerPlatform, DockerPlatformArgs
from plexica_infra.docker.plugin import DockerPlugin, DockerPluginArgs
from plexica_infra.docker.sweep import OrphanSweep
from plexica_infra.errors import StackConfigError
from plexica_infra.loader import LoadedPlugin, stack_warnings

__all__ = ["PLATFORM_NAME", "deploy_docker"]

PLATFORM_NAME = "plexica"


def deploy_docker(
    plugins: Sequence[LoadedPlugin],
    stack: StackConfig,
    secrets: StackSecrets,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, DockerPlugin]:
    """One `plexica:docker:Platform`, one `plexica:docker:Plugin` per plugin (returned by
    id), and the stack's `OrphanSweep` after every container (`sweep.py`).

    `plugins` come in dependency order, as the loader's `require_plugins` returns them
    (it refuses unknown dependencies and cycles before anything is created). A plugin's
    containers are created only after its dependencies' containers are healthy.
    """
    if stack.target != "docker":
        raise StackConfigError(f"plexica:target is {stack.target!r}; deploy_docker needs 'docker'")
    for warning in stack_warnings(stack, plugins):
        pulumi.log.warn(warning)
    platform = DockerPlatform(PLATFORM_NAME, DockerPlatformArgs(stack.docker), opts)
    identity = stack_identity(pulumi.get_project(), pulumi.get_stack())
    deployed: dict[str, DockerPlugin] = {}
    for plugin in plugins:
        manifest = plugin.manifest
        deployed[manifest.id] = DockerPlugin(
            manifest.id,
            DockerPluginArgs(
                manifest=manifest,
                stack=stack,
                secrets=secrets,
                platform=platform,
                dependencies=[deployed[dep] for dep in manifest.dependency_ids],
                identity=identity,
            ),
            opts,
        )
    OrphanSweep(
        f"{PLATFORM_NAME}-orphan-sweep",
        identity=identity,
        container_ids=pulumi.Output.all(*(c.id for plugin in deployed.values() for c in plugin.containers)),
        docker_host=stack.docker.host,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=platform)),
    )
    return deployed
