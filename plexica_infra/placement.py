"""What a stack makes of a manifest, shared by every target: the image and the replicas."""

from __future__ import annotations

from plexica_infra._validators import split_image
from plexica_infra.config import StackConfig
from plexica_infra.manifest import PluginManifest

__all__ = ["effective_replicas", "explicit_replicas", "plugin_image"]


def plugin_image(manifest: PluginManifest, stack: StackConfig) -> str:
    """The manifest image, moved to `stack.image_registry` when the stack sets one."""
    if not stack.image_registry:
        return manifest.runtime.image
    path, suffix = split_image(manifest.runtime.image)
    return f"{stack.image_registry.rstrip('/')}/{path}{suffix}"


def explicit_replicas(manifest: PluginManifest, stack: StackConfig) -> int | None:
    """The stack's per-plugin override, else the manifest's replicas; None when neither says."""
    override = stack.plugins.get(manifest.id)
    if override is not None and override.replicas is not None:
        return override.replicas
    return manifest.deployment.replicas


def effective_replicas(manifest: PluginManifest, stack: StackConfig) -> int:
    """The stack's per-plugin override, else the manifest, else the stack default."""
    explicit = explicit_replicas(manifest, stack)
    return explicit if explicit is not None else stack.replicas_default
