"""Defaults: the smallest manifest and the smallest Kubernetes stack.

Every default here is a decision (secure by default, the guide's figures); this
file is where changing one shows up.
"""

from __future__ import annotations

import pytest
import yaml

from plexica_infra.config import KubernetesSettings, StackConfig, stack_config_from_mapping
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.objects import platform_objects, plugin_objects
from plexica_infra.manifest import PluginManifest

MINIMAL_MANIFEST = {
    "id": "notes",
    "name": "Notes",
    "version": "0.1.0",
    "runtime": {"type": "node", "image": "registry.plexica.io/plugins/notes:0.1.0"},
    "api": {"basePath": "/api/plugins/notes", "healthCheck": "/health"},
}


@pytest.fixture(scope="module")
def stack() -> StackConfig:
    return stack_config_from_mapping(
        {
            "target": "kubernetes",
            "coreApiUrl": "http://core-api:3000",
            "kafkaBrokers": "redpanda:29092",
            "coreApiInsecurePlaintextHttp": True,
        },
        source="test",
    )


@pytest.fixture(scope="module")
def plugin(stack: StackConfig) -> K8sObject:
    objects = plugin_objects(PluginManifest.model_validate(MINIMAL_MANIFEST), stack)
    return {obj["kind"]: obj for obj in objects.all()}


def _container(plugin: K8sObject) -> K8sObject:
    container: K8sObject = plugin["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    return container


def test_settings_defaults() -> None:
    settings = KubernetesSettings()
    assert settings.create_namespace is True
    assert settings.pod_security_enforce == "baseline"
    assert settings.kubeconfig_context is None
    assert settings.render_yaml_to is None
    assert settings.render_secrets is False
    assert settings.autoscaling is True
    assert settings.image_pull_secrets == []
    assert settings.prometheus_operator is False
    assert settings.monitoring_labels == {}
    assert settings.prometheus_selector is None
    assert settings.prometheus_namespace_selector is None
    assert settings.gateway_selector == {"component": "api-gateway"}
    assert settings.dns_namespace_selector == {"kubernetes.io/metadata.name": "kube-system"}
    assert (settings.postgres.selector, settings.postgres.port, settings.postgres.protocol) == (
        {"app": "postgres"},
        5432,
        "TCP",
    )
    assert (settings.redis.selector, settings.redis.port) == ({"app": "redis"}, 6379)
    assert (settings.core_api.selector, settings.core_api.port) == ({"component": "core-api"}, 3000)
    assert (settings.redpanda.selector, settings.redpanda.port) == ({"app": "redpanda"}, 29092)
    assert settings.postgres.namespace_selector is None
    assert settings.progress_deadline_seconds == 600


def test_default_object_set(plugin: K8sObject) -> None:
    assert sorted(plugin) == [
        "Deployment",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]


def test_platform_defaults(stack: StackConfig) -> None:
    objects = platform_objects([PluginManifest.model_validate(MINIMAL_MANIFEST)], stack)
    assert objects.namespace is not None
    assert objects.namespace["metadata"]["name"] == "plexica"
    assert [obj["metadata"]["name"] for _, obj in objects.secrets] == [
        "plexica-database",
        "plexica-redis",
        "plexica-secrets",
    ]
    assert objects.scrape_config is not None
    (job,) = yaml.safe_load(objects.scrape_config["data"]["plugins.yml"])["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["scrape_interval"] == "15s"
    assert job["static_configs"] == [{"targets": ["plugin-notes.plexica.svc.cluster.local:3100"]}]


def test_deployment_defaults(plugin: K8sObject) -> None:
    spec = plugin["Deployment"]["spec"]
    assert "replicas" not in spec  # the HPA is on by default and owns the count
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert "imagePullSecrets" not in spec["template"]["spec"]
    container = _container(plugin)
    assert container["ports"] == [{"name": "http", "containerPort": 3100, "protocol": "TCP"}]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }


def test_probe_defaults_derive_from_health_check(plugin: K8sObject) -> None:
    container = _container(plugin)
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"] == "/health/live"
    # The stack's default health deadline: 180 s.
    assert startup["periodSeconds"] * startup["failureThreshold"] == 180


def test_env_defaults(plugin: K8sObject) -> None:
    env = {var["name"]: var.get("value") for var in _container(plugin)["env"]}
    assert env["CORE_API_URL"] == "http://core-api:3000"  # no pluginCoreApiUrl: coreApiUrl
    assert env["LOG_LEVEL"] == "info"
    assert env["NODE_ENV"] == "production"
    assert env["PORT"] == "3100"
    assert len(env) == 10


def test_hpa_defaults(plugin: K8sObject) -> None:
    spec = plugin["HorizontalPodAutoscaler"]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert [m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]] == [80, 85]


def test_pdb_defaults(plugin: K8sObject) -> None:
    assert plugin["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert plugin["PodDisruptionBudget"]["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_network_policy_defaults(plugin: K8sObject) -> None:
    spec = plugin["NetworkPolicy"]["spec"]
    assert len(spec["ingress"]) == 2  # gateway and Core API: no prometheusSelector by default
    assert len(spec["egress"]) == 5  # DNS, PostgreSQL, Redis, Core API, Redpanda
