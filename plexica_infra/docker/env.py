"""A plugin container's environment: the guide's list, PORT, readiness dependencies,
then the manifest's own variables.

Secret values never pass through here. A secret variable is an `EnvVar` naming the
`StackSecrets` field it comes from; the component joins the secret Output in, so
the container's `envs` input is a secret Output and the values never appear in
plain data, specs, revisions or logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from plexica_infra.config import StackConfig
from plexica_infra.manifest import PluginManifest

__all__ = ["EnvVar", "SecretRef", "plugin_env", "ready_dependencies", "service_hostnames"]

#: The `StackSecrets` fields a plugin receives (the Core API token stays with the deployer).
SecretRef = Literal["database_url", "redis_url", "jwt_secret"]


@dataclass(frozen=True)
class EnvVar:
    name: str
    #: The plain value; None when `secret` names the value's source.
    value: str | None = None
    secret: SecretRef | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.secret is None):
            raise ValueError(f"env {self.name}: set exactly one of value or secret")


def service_hostnames(plugin_id: str) -> tuple[str, str]:
    """Network aliases every instance of a plugin answers to: the guide's container name
    `plexica-plugin-<id>` and compose service name `plugin-<id>`."""
    return (f"plexica-plugin-{plugin_id}", f"plugin-{plugin_id}")


def ready_dependencies(manifest: PluginManifest, dependencies: Mapping[str, PluginManifest]) -> str:
    """READY_DEPENDENCIES: each dependency's liveness URL on the plexica network.

    Liveness, not readiness: a dependency that is up but itself waiting must not hold
    this plugin back in a chain. Raises KeyError naming a missing dependency.
    """
    urls = []
    for dep_id in manifest.dependency_ids:
        if dep_id not in dependencies:
            raise KeyError(f"plugin {manifest.id!r} depends on {dep_id!r}, which is not being deployed")
        dep = dependencies[dep_id]
        host = service_hostnames(dep.id)[1]
        urls.append(f"http://{host}:{dep.deployment.port}{dep.api.liveness_path}")
    return ",".join(urls)


def plugin_env(
    manifest: PluginManifest, stack: StackConfig, dependencies: Mapping[str, PluginManifest]
) -> tuple[EnvVar, ...]:
    """The environment in the guide's order, then PORT, READY_DEPENDENCIES, the manifest's env."""
    env = [
        EnvVar("PLUGIN_ID", manifest.id),
        EnvVar("PLUGIN_VERSION", manifest.version),
        EnvVar("DATABASE_URL", secret="database_url"),
        EnvVar("REDIS_URL", secret="redis_url"),
        EnvVar("CORE_API_URL", stack.core_api_url_for_plugins),
        EnvVar("KAFKA_BROKERS", stack.kafka_brokers),
        EnvVar("JWT_SECRET", secret="jwt_secret"),
        EnvVar("LOG_LEVEL", stack.log_level),
        EnvVar("NODE_ENV", stack.node_env),
        # The guide's FAQ: a plugin listens on its manifest port, so it must be told.
        EnvVar("PORT", str(manifest.deployment.port)),
    ]
    if manifest.dependency_ids:
        env.append(EnvVar("READY_DEPENDENCIES", ready_dependencies(manifest, dependencies)))
    # The manifest model rejects reserved names, so these never shadow the platform's.
    env.extend(EnvVar(name, value) for name, value in manifest.deployment.env.items())
    return tuple(env)
