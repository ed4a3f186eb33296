"""The environment every plugin container gets: the guide's FAQ list plus PORT (and
READY_DEPENDENCIES when the plugin has dependencies), then the manifest's own variables."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.peers import NO_PEERS, PluginPeers, ready_dependencies
from plexica_infra.k8s.secrets import SHARED_SECRETS, secret_key_ref
from plexica_infra.manifest import PluginManifest

__all__ = ["plugin_env"]

_SECRET_ENV = {secret.env: secret for secret in SHARED_SECRETS}


def _var(name: str, value: str) -> K8sObject:
    return {"name": name, "value": value}


def _secret_var(name: str) -> K8sObject:
    return {"name": name, "valueFrom": secret_key_ref(_SECRET_ENV[name])}


def plugin_env(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers = NO_PEERS) -> list[K8sObject]:
    """The guide's order (its Deployment example), then PORT, READY_DEPENDENCIES, the
    manifest's env last (the manifest model rejects the reserved names, so it never
    shadows the platform's).

    Secrets are `secretKeyRef`s to the shared Secrets, never values: the Deployment
    holds nothing secret.
    """
    platform = [
        _var("PLUGIN_ID", manifest.id),
        _var("PLUGIN_VERSION", manifest.version),
        _secret_var("DATABASE_URL"),
        _secret_var("REDIS_URL"),
        _var("CORE_API_URL", stack.core_api_url_for_plugins),
        _var("KAFKA_BROKERS", stack.kafka_brokers),
        _secret_var("JWT_SECRET"),
        _var("LOG_LEVEL", stack.log_level),
        _var("NODE_ENV", stack.node_env),
        # The guide's FAQ: a plugin listens on its manifest port, so it must be told.
        _var("PORT", str(manifest.deployment.port)),
    ]
    if peers.dependencies:
        platform.append(_var("READY_DEPENDENCIES", ready_dependencies(peers, stack.namespace)))
    return platform + [_var(name, value) for name, value in manifest.deployment.env.items()]
