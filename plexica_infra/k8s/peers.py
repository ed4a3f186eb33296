"""A plugin's neighbours: the plugins it depends on and the plugins that depend on it.

Declared `dependencies` are the only plugin-to-plugin paths the NetworkPolicies
open, and the dependencies' liveness URLs become READY_DEPENDENCIES (the same
contract as the Docker target): a plugin is ready only while what it needs is alive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plexica_infra.k8s.names import service_url
from plexica_infra.manifest import PluginManifest

__all__ = ["NO_PEERS", "PluginPeers", "plugin_peers", "ready_dependencies"]


@dataclass(frozen=True)
class PluginPeers:
    dependencies: tuple[PluginManifest, ...] = ()
    dependents: tuple[PluginManifest, ...] = ()


#: A plugin on its own: no dependencies, no dependents.
NO_PEERS = PluginPeers()


def plugin_peers(manifest: PluginManifest, manifests: Sequence[PluginManifest]) -> PluginPeers:
    """Peers of `manifest` among `manifests`; KeyError names a dependency that is not there."""
    by_id = {m.id: m for m in manifests}
    missing = [dep for dep in manifest.dependency_ids if dep not in by_id]
    if missing:
        raise KeyError(f"plugin {manifest.id!r} depends on {', '.join(missing)}, which is not being deployed")
    return PluginPeers(
        dependencies=tuple(by_id[dep] for dep in manifest.dependency_ids),
        dependents=tuple(m for m in manifests if manifest.id in m.dependency_ids),
    )


def ready_dependencies(peers: PluginPeers, namespace: str) -> str:
    """Each dependency's liveness URL through its Service, comma-separated.

    Liveness, not readiness: a dependency that is up but itself waiting must not hold
    this plugin back in a chain.
    """
    return ",".join(
        f"{service_url(dep.id, namespace, dep.deployment.port)}{dep.api.liveness_path}" for dep in peers.dependencies
    )
