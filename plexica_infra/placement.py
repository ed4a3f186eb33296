"""What a stack makes of a manifest, shared by every target: the image and the replicas."""

from __future__ import annotations

from plexica_infra._validators import split_image
from plexica_infra.config import StackConfig
from plexica_infra.errors import ManifestError
from plexica_infra.manifest import PluginManifest

__all__ = ["declared_image", "effective_replicas", "explicit_replicas", "missing_image_message", "plugin_image"]


def declared_image(manifest: PluginManifest, stack: StackConfig) -> str | None:
    """The stack's `plexica:plugins.<id>.image`, else the manifest's `runtime.image`; None if neither."""
    override = stack.plugins.get(manifest.id)
    if override is not None and override.image is not None:
        return override.image
    return manifest.runtime.image


def missing_image_message(plugin_id: str) -> str:
    return (
        f"plugin {plugin_id!r} has no image: set runtime.image in its manifest, or "
        f"plexica:plugins.{plugin_id}.image in the stack file (real Plexica manifests name none)"
    )


def plugin_image(manifest: PluginManifest, stack: StackConfig) -> str:
    """The plugin's image (see `declared_image`), moved to `stack.image_registry` when set."""
    image = declared_image(manifest, stack)
    if image is None:
        raise ManifestError(missing_image_message(manifest.id))
    if not stack.image_registry:
        return image
    path, suffix = split_image(image)
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
