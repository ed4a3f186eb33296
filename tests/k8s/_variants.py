"""Stack and manifest variants that together emit every optional object and field.

Each variant has its own namespace, so that scanners that key objects by
kind/namespace/name (checkov's graph checks) keep them apart.
"""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.objects import render_objects
from plexica_infra.manifest import PluginManifest
from tests.k8s._support import _base_config, manifest, prod_stack, shipped_plugins


def _shipped() -> list[PluginManifest]:
    return [plugin.manifest for plugin in shipped_plugins()]


def _everything() -> list[PluginManifest]:
    extra = manifest(
        id="billing",
        name="Billing",
        version="3.1.4-rc.1+build.9",
        api={"basePath": "/api/plugins/billing", "liveness": "/livez", "readiness": "/readyz"},
        runtime={
            "image": "registry.plexica.io/plugins/billing@sha256:" + "b" * 64,
            "resources": {"cpu": "1.5", "memory": "2G", "requests": {"cpu": "100m", "memory": "500M"}},
        },
        deployment={
            "port": 3300,
            "env": {"FEATURE_FLAGS": "a,b"},
            "egress": [
                {"to": "203.0.113.0/24", "ports": [8443, 9443]},
                {"to": "198.51.100.7", "ports": [5353], "protocol": "UDP"},
            ],
            "metricsPath": "/internal/metrics",
        },
    )
    return [*_shipped(), extra]


VARIANTS: dict[str, tuple[StackConfig, list[PluginManifest]]] = {
    "prod": (prod_stack(), _shipped()),
    "prod-operator": (
        prod_stack(
            namespace="plexica-operator",
            prometheusOperator=True,
            monitoringLabels={"release": "kps"},
            prometheusNamespaceSelector={"kubernetes.io/metadata.name": "monitoring"},
        ),
        _shipped(),
    ),
    "pinned-single-pod": (
        _base_config(namespace="plexica-single", defaultReplicas=1, kubernetes={"autoscaling": False}),
        _shipped(),
    ),
    "everything": (
        _base_config(
            namespace="plugins",
            imageRegistry="mirror.internal:5000",
            plugins={"crm": {"replicas": 4}},
            kubernetes={
                "createNamespace": False,
                "imagePullSecrets": ["registry-creds"],
                "prometheusSelector": {"app": "prometheus"},
                "postgres": {
                    "selector": {"app": "pg"},
                    "port": 6432,
                    "namespaceSelector": {"kubernetes.io/metadata.name": "db"},
                },
            },
        ),
        _everything(),
    ),
}


def variant_objects(name: str) -> list[K8sObject]:
    stack, manifests = VARIANTS[name]
    return render_objects(manifests, stack)
