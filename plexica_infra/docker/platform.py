"""`plexica:docker:Platform`: the Docker provider, the plexica network and the
rollback hook that every plugin container shares."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from plexica_infra.config import DockerSettings
from plexica_infra.docker.network import network_spec
from plexica_infra.docker.rollback import HOOK_NAME, cleanup_hook

__all__ = ["DockerPlatform", "DockerPlatformArgs"]


@dataclass(frozen=True)
class DockerPlatformArgs:
    settings: DockerSettings


class DockerPlatform(pulumi.ComponentResource):
    TYPE = "plexica:docker:Platform"

    provider: docker.Provider
    #: The created network; None when the stack adopts an external one.
    network: docker.Network | None
    network_name: pulumi.Output[str]
    #: Removes a container whose create failed (see `rollback`).
    cleanup_hook: pulumi.ErrorHook

    def __init__(self, name: str, args: DockerPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=self))

        # No host (None): the provider falls back to DOCKER_HOST, then the default socket.
        self.provider = docker.Provider(f"{name}-docker", host=settings.host, opts=child)
        on_provider = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(provider=self.provider))

        spec = network_spec(settings)
        if spec.external:
            self.network = None
            self.network_name = pulumi.Output.from_input(spec.name)
        else:
            self.network = docker.Network(
                spec.name,
                name=spec.name,
                driver=spec.driver,
                labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in sorted(spec.labels.items())],
                opts=on_provider,
            )
            self.network_name = self.network.name

        self.cleanup_hook = cleanup_hook(settings.host, name=f"{HOOK_NAME}-{name}")
        self.register_outputs({"network_name": self.network_name})
