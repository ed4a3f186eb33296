"""Labels: the guide's `app`/`component`/`plugin` trio plus the recommended
`app.kubernetes.io/*` set.

Selectors use only the guide's trio. It never changes over a plugin's life (a
Deployment's selector is immutable), and it is exactly the selector of a Deployment
applied by hand from the guide, so such a Deployment can be adopted without being
replaced. The version label lives only on objects and pod templates.
"""

from __future__ import annotations

import re

from plexica_infra.manifest import PluginManifest

__all__ = ["MANAGED_BY", "PART_OF", "label_value", "platform_labels", "plugin_labels", "selector_labels"]

PART_OF = "plexica"
MANAGED_BY = "pulumi"

_LABEL_VALUE_MAX = 63
_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
_EDGE = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


def label_value(text: str) -> str:
    """A valid label value for `text`: '+' of semver build metadata and other characters
    labels forbid become '_', at most 63 characters, alphanumeric at both ends."""
    cleaned = _INVALID.sub("_", text)[:_LABEL_VALUE_MAX]
    return _EDGE.sub("", cleaned)


def selector_labels(manifest: PluginManifest) -> dict[str, str]:
    return {"app": PART_OF, "component": "plugin", "plugin": manifest.id}


def plugin_labels(manifest: PluginManifest) -> dict[str, str]:
    return {
        **selector_labels(manifest),
        "app.kubernetes.io/name": manifest.id,
        "app.kubernetes.io/instance": f"plugin-{manifest.id}",
        "app.kubernetes.io/version": label_value(manifest.version),
        "app.kubernetes.io/component": "plugin",
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def platform_labels(component: str) -> dict[str, str]:
    """Labels of the namespace-level objects shared by every plugin."""
    return {
        "app": PART_OF,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
