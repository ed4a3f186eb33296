"""Container and network labels.

`docker ps --filter label=plexica.plugin=crm` finds a plugin's containers, and the
rollback hook checks `plexica.managed-by` and `plexica.revision` before it removes
anything, so it never touches a container this project did not create.
"""

from __future__ import annotations

from plexica_infra.manifest import PluginManifest

__all__ = [
    "INSTANCE_LABEL",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "PLUGIN_LABEL",
    "PROJECT_LABEL",
    "REVISION_LABEL",
    "STACK_LABEL",
    "VERSION_LABEL",
    "managed_labels",
    "plugin_labels",
    "stack_identity",
]

MANAGED_BY = "plexica-infra"
MANAGED_BY_LABEL = "plexica.managed-by"
PLUGIN_LABEL = "plexica.plugin"
VERSION_LABEL = "plexica.version"
REVISION_LABEL = "plexica.revision"
INSTANCE_LABEL = "plexica.instance"
IMAGE_LABEL = "plexica.image"
#: The Pulumi project and stack a container belongs to: the orphan sweep (`sweep.py`)
#: removes only containers of its own stack, never another stack's on a shared engine.
PROJECT_LABEL = "plexica.project"
STACK_LABEL = "plexica.stack"


def stack_identity(project: str, stack: str) -> dict[str, str]:
    """The labels naming a stack: every plugin container carries them."""
    return {**managed_labels(), PROJECT_LABEL: project, STACK_LABEL: stack}


def managed_labels() -> dict[str, str]:
    """Labels on everything this project creates in Docker."""
    return {MANAGED_BY_LABEL: MANAGED_BY}


def plugin_labels(manifest: PluginManifest, *, image: str) -> dict[str, str]:
    """A plugin container's labels, before its revision and instance number are known."""
    return {
        **managed_labels(),
        PLUGIN_LABEL: manifest.id,
        VERSION_LABEL: manifest.version,
        IMAGE_LABEL: image,
        # OCI annotation keys, so generic tooling shows the plugin's name and version.
        "org.opencontainers.image.title": manifest.name,
        "org.opencontainers.image.version": manifest.version,
    }
