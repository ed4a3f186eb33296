"""The Kubernetes target (`plexica:target: kubernetes`).

Pure builders (one module per emitted kind) turn a manifest and the stack config
into Kubernetes objects; `objects` assembles them; two small components create
them: `KubernetesPlatform` (`plexica:k8s:Platform`, once per namespace) and
`KubernetesPlugin` (`plexica:k8s:Plugin`, once per plugin). `deploy_kubernetes`
(in `program`) is the entry point, called by `plexica_infra.target.KubernetesTarget`;
the settings model is `plexica_infra.config.KubernetesSettings`.

This package imports nothing eagerly: the Pulumi SDKs load only when the program or
a component is actually used.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["KubernetesPlatform", "KubernetesPlugin", "deploy_kubernetes", "render_objects"]

_EXPORTS = {
    "KubernetesPlatform": "plexica_infra.k8s.platform",
    "KubernetesPlugin": "plexica_infra.k8s.plugin",
    "deploy_kubernetes": "plexica_infra.k8s.program",
    "render_objects": "plexica_infra.k8s.objects",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
