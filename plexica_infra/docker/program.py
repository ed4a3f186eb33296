"""`deploy_docker`: every plugin of a `target: docker` stack, in dependency order."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.docker.platform import DockerPlatform, DockerPlatformArgs
from plexica_infra.docker.plugin import DockerPlugin, DockerPluginArgs
from plexica_infra.errors import ManifestError, StackConfigError
from plexica_infra.loader import LoadedPlugin, dependency_order

__all__ = ["PLATFORM_NAME", "deploy_docker"]

PLATFORM_NAME = "plexica"


def deploy_docker(
    plugins: Sequence[LoadedPlugin],
    stack: StackConfig,
    secrets: StackSecrets,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, DockerPlugin]:
    """One `plexica:docker:Platform` and one `plexica:docker:Plugin` per plugin, by id.

    A plugin's containers are created only after its dependencies' containers are healthy.
    """
    if stack.target != "docker":
        raise StackConfigError(f"plexica:target is {stack.target!r}; deploy_docker needs 'docker'")
    platform = DockerPlatform(PLATFORM_NAME, DockerPlatformArgs(stack.docker), opts)
    ids = {plugin.id for plugin in plugins}
    deployed: dict[str, DockerPlugin] = {}
    for plugin in dependency_order(plugins):
        manifest = plugin.manifest
        unknown = [dep for dep in manifest.dependency_ids if dep not in ids]
        if unknown:
            raise ManifestError(
                f"{plugin.path}: /deployment/dependencies: {', '.join(unknown)} not among the plugins "
                f"being deployed ({', '.join(sorted(ids))})"
            )
        cyclic = [dep for dep in manifest.dependency_ids if dep not in deployed]
        if cyclic:
            raise ManifestError(
                f"{plugin.path}: /deployment/dependencies: {', '.join(cyclic)} depend back on "
                f"{manifest.id!r}; remove the cycle"
            )
        deployed[manifest.id] = DockerPlugin(
            manifest.id,
            DockerPluginArgs(
                manifest=manifest,
                stack=stack,
                secrets=secrets,
                platform=platform,
                dependencies=[deployed[dep] for dep in manifest.dependency_ids],
            ),
            opts,
        )
    return deployed
