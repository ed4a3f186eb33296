"""One ConfigMap with the guide's Prometheus `scrape_configs`, a job per plugin.

Used when the cluster has no Prometheus Operator: Prometheus loads the file from
this ConfigMap (mounted next to its prometheus.yml and listed in its
`scrape_config_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from plexica_infra.config import StackConfig
from plexica_infra.k8s.labels import platform_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name, service_dns
from plexica_infra.manifest import PluginManifest

__all__ = ["SCRAPE_CONFIG_KEY", "SCRAPE_CONFIG_NAME", "SCRAPE_INTERVAL", "scrape_config", "scrape_jobs"]

SCRAPE_CONFIG_NAME = "plexica-plugin-scrape-configs"
SCRAPE_CONFIG_KEY = "plugins.yml"
#: The guide's interval.
SCRAPE_INTERVAL = "15s"


def scrape_jobs(manifests: Sequence[PluginManifest], namespace: str) -> list[dict[str, Any]]:
    """One job per plugin, sorted by id so that a change of deploy order changes nothing."""
    return [
        {
            "job_name": object_name(manifest.id),
            "static_configs": [{"targets": [f"{service_dns(manifest.id, namespace)}:{manifest.deployment.port}"]}],
            "metrics_path": manifest.deployment.metrics_path,
            "scrape_interval": SCRAPE_INTERVAL,
        }
        for manifest in sorted(manifests, key=lambda m: m.id)
    ]


def scrape_config(manifests: Sequence[PluginManifest], stack: StackConfig) -> K8sObject:
    document = {"scrape_configs": scrape_jobs(manifests, stack.namespace)}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_metadata(SCRAPE_CONFIG_NAME, stack.namespace, platform_labels("monitoring")),
        "data": {SCRAPE_CONFIG_KEY: yaml.safe_dump(document, sort_keys=False)},
    }
