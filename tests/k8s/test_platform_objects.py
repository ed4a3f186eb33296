"""Namespace, shared Secrets and ServiceAccount."""

from __future__ import annotations

from plexica_infra.k8s.namespace import namespace
from plexica_infra.k8s.objects import platform_objects, render_objects
from plexica_infra.k8s.provider import provider_args
from plexica_infra.k8s.secrets import SHARED_SECRETS
from plexica_infra.k8s.service_account import service_account
from tests.k8s._support import _base_config, by_kind, prod_stack, shipped, shipped_plugins


def test_namespace_created_with_pod_security_labels() -> None:
    obj = namespace(prod_stack())
    assert obj == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "plexica",
            "labels": {
                "app": "plexica",
                "app.kubernetes.io/component": "namespace",
                "app.kubernetes.io/part-of": "plexica",
                "app.kubernetes.io/managed-by": "pulumi",
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    }
    strict = namespace(_base_config(kubernetes={"podSecurityEnforce": "restricted"}))
    assert strict is not None
    assert strict["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_namespace_adopted_is_not_emitted() -> None:
    assert namespace(_base_config(kubernetes={"createNamespace": False})) is None


def test_shared_secrets_are_the_guides_three() -> None:
    objects = platform_objects([p.manifest for p in shipped_plugins()], prod_stack())
    rendered = {obj["metadata"]["name"]: obj for _, obj in objects.secrets}
    assert list(rendered) == ["plexica-database", "plexica-redis", "plexica-secrets"]
    assert rendered["plexica-database"]["stringData"] == {"connection-string": "<database_url>"}
    assert rendered["plexica-redis"]["stringData"] == {"connection-string": "<redis_url>"}
    assert rendered["plexica-secrets"]["stringData"] == {"jwt-secret": "<jwt_secret>"}
    for obj in rendered.values():
        assert obj["type"] == "Opaque"
        assert obj["metadata"]["namespace"] == "plexica"
        assert "data" not in obj
    assert [s.source for s in SHARED_SECRETS] == ["database_url", "redis_url", "jwt_secret"]


def test_secrets_exist_once_per_namespace_whatever_the_plugin_count() -> None:
    manifests = [p.manifest for p in shipped_plugins()]
    for count in (0, 1, 2):
        secrets = by_kind(render_objects(manifests[:count], prod_stack()), "Secret")
        assert len(secrets) == 3


def test_rendering_to_yaml_leaves_secrets_out_unless_asked() -> None:
    manifests = [p.manifest for p in shipped_plugins()]
    assert platform_objects(manifests, _base_config(kubernetes={"renderYamlTo": "/tmp/out"})).secrets == ()
    opted_in = _base_config(kubernetes={"renderYamlTo": "/tmp/out", "renderSecrets": True})
    assert len(platform_objects(manifests, opted_in).secrets) == 3


def test_service_account_has_no_token() -> None:
    obj = service_account(shipped("crm"), prod_stack())
    assert obj["apiVersion"] == "v1"
    assert obj["kind"] == "ServiceAccount"
    assert obj["metadata"]["name"] == "plugin-crm"
    assert obj["metadata"]["namespace"] == "plexica"
    assert obj["automountServiceAccountToken"] is False


def test_provider_args() -> None:
    assert provider_args(prod_stack().kubernetes) == {}
    settings = _base_config(kubernetes={"context": "prod-eu", "renderYamlTo": "out/k8s"}).kubernetes
    assert provider_args(settings) == {"context": "prod-eu", "render_yaml_to_directory": "out/k8s"}


def test_full_object_set_for_the_shipped_plugins() -> None:
    objects = render_objects([p.manifest for p in shipped_plugins()], prod_stack())
    kinds = [(obj["kind"], obj["metadata"]["name"]) for obj in objects]
    assert kinds == [
        ("Namespace", "plexica"),
        ("Secret", "plexica-database"),
        ("Secret", "plexica-redis"),
        ("Secret", "plexica-secrets"),
        ("ConfigMap", "plexica-plugin-scrape-configs"),
        ("ServiceAccount", "plugin-crm"),
        ("NetworkPolicy", "plugin-crm-network-policy"),
        ("Deployment", "plugin-crm"),
        ("Service", "plugin-crm"),
        ("HorizontalPodAutoscaler", "plugin-crm-hpa"),
        ("PodDisruptionBudget", "plugin-crm-pdb"),
        ("ServiceAccount", "plugin-analytics"),
        ("NetworkPolicy", "plugin-analytics-network-policy"),
        ("Deployment", "plugin-analytics"),
        ("Service", "plugin-analytics"),
        ("HorizontalPodAutoscaler", "plugin-analytics-hpa"),
        ("PodDisruptionBudget", "plugin-analytics-pdb"),
    ]
