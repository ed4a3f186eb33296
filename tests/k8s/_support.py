"""Builders shared by the Kubernetes tests: manifests, stack configs, rendered objects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from plexica_infra.config import StackConfig, stack_config_from_mapping
from plexica_infra.k8s.names import K8sObject
from plexica_infra.loader import LoadedPlugin, require_plugins
from plexica_infra.manifest import PluginManifest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"

#: The Kubernetes version every emitted object is validated against (kubernetes-validate
#: ships its OpenAPI schema; >= 1.30 for the preStop `sleep` handler).
KUBERNETES_VERSION = "1.33"

#: Distinctive secret values: any of them showing up outside a secret is a leak.
SECRET_VALUES = {
    "core_api_token": "tok-7f3a9c-SUPERADMIN",
    "database_url": "postgresql://plexica:pw-91b2d7e4@postgres.plexica.svc.cluster.local:5432/plexica",
    "redis_url": "redis://:redis-pw-5c8e1a@redis.plexica.svc.cluster.local:6379",
    "jwt_secret": "jwt-sig-0d4f6b2a9e",
}


def manifest_dict(plugin_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLUGINS / plugin_id / "plugin.json").read_text())
    return data


def shipped(plugin_id: str) -> PluginManifest:
    return PluginManifest.model_validate(manifest_dict(plugin_id))


def shipped_plugins() -> list[LoadedPlugin]:
    """crm and analytics, in dependency order, through the real loader."""
    return require_plugins(PLUGINS)


def manifest(**overrides: Any) -> PluginManifest:
    """The crm manifest with top-level sections replaced or deep-merged (dicts merge)."""
    data = manifest_dict("crm")
    _deep_merge(data, overrides)
    return PluginManifest.model_validate(data)


def _deep_merge(target: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


_BASE: dict[str, Any] = {
    "target": "kubernetes",
    "namespace": "plexica",
    "coreApiUrl": "https://core-api.plexica.io",
    "pluginCoreApiUrl": "http://core-api.plexica.svc.cluster.local:3000",
    "kafkaBrokers": "redpanda-0.redpanda.plexica.svc.cluster.local:29092",
    "logLevel": "info",
    "nodeEnv": "production",
}


def _base_config(**overrides: Any) -> StackConfig:
    """A Kubernetes stack; keys are the stack file's (camelCase), `kubernetes` deep-merges."""
    values = copy.deepcopy(_BASE)
    _deep_merge(values, overrides)
    return stack_config_from_mapping(values, source="test")


def prod_stack(namespace: str | None = None, **kubernetes: Any) -> StackConfig:
    """The committed Pulumi.prod.yaml, optionally with `plexica:kubernetes` settings changed."""
    raw = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
    values = {key.removeprefix("plexica:"): value for key, value in raw.items()}
    _deep_merge(values, {"kubernetes": kubernetes})
    if namespace is not None:
        values["namespace"] = namespace
    return stack_config_from_mapping(values, source="Pulumi.prod.yaml")


def by_kind(objects: list[K8sObject], kind: str) -> list[K8sObject]:
    return [obj for obj in objects if obj["kind"] == kind]


def env_map(container: K8sObject) -> dict[str, Any]:
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container["env"]}
