"""`plexica:docker:Plugin`: one plugin's image and containers, built from
`container.container_specs`. The replacement and rollback design is in
`container.py`'s docstring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.docker.container import container_specs, host_url
from plexica_infra.docker.container_spec import REPLACE_ON_INIT_ERRORS, ContainerSpec
from plexica_infra.docker.env import EnvVar, service_hostnames
from plexica_infra.docker.image import image_spec
from plexica_infra.docker.platform import DockerPlatform
from plexica_infra.manifest import PluginManifest

__all__ = ["DockerPlugin", "DockerPluginArgs"]


@dataclass(frozen=True)
class DockerPluginArgs:
    manifest: PluginManifest
    stack: StackConfig
    secrets: StackSecrets
    platform: DockerPlatform
    #: The plugins named in `manifest.deployment.dependencies`; this plugin's containers
    #: are created only after theirs are healthy.
    dependencies: Sequence[DockerPlugin] = field(default_factory=tuple)
    #: The stack's identity labels (`labels.stack_identity`) every container carries.
    identity: Mapping[str, str] = field(default_factory=dict)


def _envs(env: Sequence[EnvVar], secrets: StackSecrets) -> pulumi.Output[list[str]]:
    """`NAME=value` entries; any secret entry makes the whole list a secret Output."""
    entries: list[Any] = []
    for var in env:
        if var.secret is not None:
            entries.append(pulumi.Output.concat(var.name, "=", getattr(secrets, var.secret)))
        else:
            entries.append(f"{var.name}={var.value}")
    return pulumi.Output.all(*entries)


def _published_port(ports: Sequence[Any] | None, internal: int, container: str) -> int:
    """The host port Docker assigned; ports are `ContainerPort` output objects (dict subclasses)."""
    for port in ports or ():
        fields = port if isinstance(port, Mapping) else vars(port)
        if fields.get("internal") == internal and fields.get("external"):
            return int(fields["external"])
    raise ValueError(f"container {container} publishes no host port for container port {internal}")


class DockerPlugin(pulumi.ComponentResource):
    TYPE = "plexica:docker:Plugin"

    manifest: PluginManifest
    specs: tuple[ContainerSpec, ...]
    containers: list[docker.Container]
    #: The pulled image; None with `images: local`.
    image: docker.RemoteImage | None
    container_names: pulumi.Output[list[str]]
    #: `http://<bindAddress>:<published port>` per instance, reachable from this host.
    instance_urls: pulumi.Output[list[str]]
    #: `http://<container name>:<port>` per instance, on the plexica network; they change
    #: with every replacement, so the service registry always points at live containers.
    internal_urls: pulumi.Output[list[str]]
    registry_urls: pulumi.Output[list[str]]
    #: `http://plexica-plugin-<id>:<port>`: the stable network alias of every instance.
    service_url: pulumi.Output[str]
    revision: pulumi.Output[str]

    def __init__(self, name: str, args: DockerPluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        manifest, platform = args.manifest, args.platform
        self.manifest = manifest
        self.specs = container_specs(
            manifest, args.stack, {d.manifest.id: d.manifest for d in args.dependencies}, identity=args.identity
        )
        child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=self, provider=platform.provider))

        image = image_spec(manifest, args.stack)
        if image.source == "pull":
            self.image = docker.RemoteImage(
                f"plexica-plugin-{manifest.id}", name=image.reference, keep_locally=image.keep_locally, opts=child
            )
            image_id: pulumi.Output[str] = self.image.image_id
        else:
            self.image = None
            image_id = docker.get_remote_image_output(
                name=image.reference,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=platform.provider),
            ).id

        after_dependencies = [c for dep in args.dependencies for c in dep.containers]
        self.containers = [
            self._container(spec, image_id, args.secrets, platform, after_dependencies, child) for spec in self.specs
        ]

        port = manifest.deployment.port
        bind = args.stack.docker.bind_address
        self.container_names = pulumi.Output.all(*(c.name for c in self.containers))
        self.instance_urls = pulumi.Output.all(
            *(
                pulumi.Output.all(c.name, c.ports).apply(
                    lambda name_ports: host_url(bind, _published_port(name_ports[1], port, name_ports[0]))
                )
                for c in self.containers
            )
        )
        self.internal_urls = pulumi.Output.all(
            *(c.name.apply(lambda container: f"http://{container}:{port}") for c in self.containers)
        )
        # Where the Core API reaches the instances: on the network, or on the host (settings).
        self.registry_urls = (
            self.instance_urls if args.stack.docker.registry_endpoints == "host" else self.internal_urls
        )
        self.service_url = pulumi.Output.from_input(f"http://{service_hostnames(manifest.id)[0]}:{port}")
        self.revision = pulumi.Output.from_input(self.specs[0].revision)
        self.register_outputs(
            {
                "container_names": self.container_names,
                "instance_urls": self.instance_urls,
                "internal_urls": self.internal_urls,
                "registry_urls": self.registry_urls,
                "service_url": self.service_url,
                "revision": self.revision,
            }
        )

    @staticmethod
    def _container(
        spec: ContainerSpec,
        image_id: pulumi.Output[str],
        secrets: StackSecrets,
        platform: DockerPlatform,
        depends_on: list[docker.Container],
        child: pulumi.ResourceOptions,
    ) -> docker.Container:
        check = spec.healthcheck
        return docker.Container(
            spec.resource_name,
            # No `name`: the provider autonames `<resource name>-<7 hex>`, and every replacement
            # gets a new name, so old and new never collide (container.py).
            image=image_id,
            envs=_envs(spec.env, secrets),
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(spec.labels.items())],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=platform.network_name, aliases=list(spec.aliases))
            ],
            ports=[docker.ContainerPortArgs(internal=p.internal, ip=p.ip, protocol=p.protocol) for p in spec.ports],
            hosts=[docker.ContainerHostArgs(host=name, ip=ip) for name, ip in spec.hosts] or None,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=list(check.tests),
                interval=check.interval,
                timeout=check.timeout,
                start_period=check.start_period,
                start_interval=check.start_interval,
                retries=check.retries,
            ),
            cpus=spec.cpus,
            memory=spec.memory_mib,
            memory_swap=spec.memory_swap_mib,
            memory_reservation=spec.memory_reservation_mib,
            user=spec.user,
            read_only=spec.read_only,
            tmpfs=dict(spec.tmpfs),
            capabilities=docker.ContainerCapabilitiesArgs(drops=list(spec.cap_drop)),
            security_opts=list(spec.security_opts),
            restart=spec.restart,
            log_driver=spec.log_driver,
            log_opts=dict(spec.log_opts),
            wait=spec.wait,
            wait_timeout=spec.wait_timeout_seconds,
            stop_timeout=spec.stop_grace_seconds,
            destroy_grace_seconds=spec.stop_grace_seconds,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=depends_on,
                    # pulumi-docker asks for delete-before-replace; create the new container,
                    # wait until it is healthy, then delete the old one.
                    delete_before_replace=False,
                    # A container left with initialization errors by a failed health wait is
                    # replaced on the next `up` (container.py, "Rollback").
                    replace_on_changes=list(REPLACE_ON_INIT_ERRORS),
                    hooks=pulumi.ResourceHookBinding(on_error=[platform.cleanup_hook]),
                    # The environment carries the stack's secrets: state keeps it encrypted, and the
                    # policy pack (no-plaintext-secrets) reads this declaration.
                    additional_secret_outputs=["envs"],
                ),
            ),
        )
