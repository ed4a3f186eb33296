"""The Deployment of the shipped plugins under the prod stack, field by field."""

from __future__ import annotations

import pytest

from plexica_infra.k8s.deployment import deployment, plugin_image
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.peers import plugin_peers
from tests.k8s._support import _base_config, env_map, manifest, prod_stack, shipped

GUIDE_SELECTOR = {"app": "plexica", "component": "plugin"}


def _container(obj: K8sObject) -> K8sObject:
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: K8sObject = containers[0]
    return container


@pytest.mark.parametrize(("plugin_id", "version"), [("crm", "1.2.0"), ("analytics", "1.0.0")])
def test_metadata_and_labels(plugin_id: str, version: str) -> None:
    obj = deployment(shipped(plugin_id), prod_stack())
    assert obj["apiVersion"] == "apps/v1"
    assert obj["kind"] == "Deployment"
    assert obj["metadata"]["name"] == f"plugin-{plugin_id}"
    assert obj["metadata"]["namespace"] == "plexica"
    labels = obj["metadata"]["labels"]
    assert labels == {
        "app": "plexica",
        "component": "plugin",
        "plugin": plugin_id,
        "app.kubernetes.io/name": plugin_id,
        "app.kubernetes.io/instance": f"plugin-{plugin_id}",
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/component": "plugin",
        "app.kubernetes.io/part-of": "plexica",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    assert obj["spec"]["template"]["metadata"]["labels"] == labels


@pytest.mark.parametrize("plugin_id", ["crm", "analytics"])
def test_selector_is_the_guides_stable_trio(plugin_id: str) -> None:
    obj = deployment(shipped(plugin_id), prod_stack())
    assert obj["spec"]["selector"] == {"matchLabels": GUIDE_SELECTOR | {"plugin": plugin_id}}
    assert "app.kubernetes.io/version" not in obj["spec"]["selector"]["matchLabels"]


def test_selector_does_not_change_with_the_version() -> None:
    stack = prod_stack()
    old = deployment(manifest(version="1.2.0"), stack)
    new = deployment(manifest(version="2.0.0-rc.1+build.7"), stack)
    assert old["spec"]["selector"] == new["spec"]["selector"]
    assert new["metadata"]["labels"]["app.kubernetes.io/version"] == "2.0.0-rc.1_build.7"


def test_hpa_owns_replicas_so_the_field_is_omitted() -> None:
    # prod: autoscaling on (stack and manifest default), defaultReplicas 2.
    obj = deployment(shipped("crm"), prod_stack())
    assert "replicas" not in obj["spec"]


@pytest.mark.parametrize(
    ("overrides", "stack_overrides", "expected"),
    [
        ({}, {}, 2),  # stack default on Kubernetes
        ({"deployment": {"replicas": 3}}, {}, 3),  # manifest
        ({"deployment": {"replicas": 3}}, {"plugins": {"crm": {"replicas": 5}}}, 5),  # stack override wins
        ({}, {"defaultReplicas": 4}, 4),
    ],
)
def test_replicas_without_hpa(overrides: dict[str, object], stack_overrides: dict[str, object], expected: int) -> None:
    stack = _base_config(kubernetes={"autoscaling": False}, **stack_overrides)
    obj = deployment(manifest(**overrides), stack)
    assert obj["spec"]["replicas"] == expected


def test_container_identity_image_and_port() -> None:
    container = _container(deployment(shipped("crm"), prod_stack()))
    assert container["name"] == "plugin-crm"
    assert container["image"] == "registry.plexica.io/plugins/crm:1.2.0"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["ports"] == [{"name": "http", "containerPort": 3100, "protocol": "TCP"}]
    analytics = _container(deployment(shipped("analytics"), prod_stack()))
    assert analytics["ports"] == [{"name": "http", "containerPort": 3200, "protocol": "TCP"}]


def test_env_is_the_guides_list_plus_port_with_secret_refs() -> None:
    container = _container(deployment(shipped("crm"), prod_stack()))
    assert [var["name"] for var in container["env"]] == [
        "PLUGIN_ID",
        "PLUGIN_VERSION",
        "DATABASE_URL",
        "REDIS_URL",
        "CORE_API_URL",
        "KAFKA_BROKERS",
        "JWT_SECRET",
        "LOG_LEVEL",
        "NODE_ENV",
        "PORT",
    ]
    env = env_map(container)
    assert env["PLUGIN_ID"] == "crm"
    assert env["PLUGIN_VERSION"] == "1.2.0"
    assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "plexica-database", "key": "connection-string"}}
    assert env["REDIS_URL"] == {"secretKeyRef": {"name": "plexica-redis", "key": "connection-string"}}
    assert env["JWT_SECRET"] == {"secretKeyRef": {"name": "plexica-secrets", "key": "jwt-secret"}}
    # CORE_API_URL is what plugins see (pluginCoreApiUrl), not the deployer's coreApiUrl.
    assert env["CORE_API_URL"] == "http://core-api.plexica.svc.cluster.local:3000"
    assert env["KAFKA_BROKERS"] == prod_stack().kafka_brokers
    assert env["LOG_LEVEL"] == "info"
    assert env["NODE_ENV"] == "production"
    assert env["PORT"] == "3100"


def test_manifest_env_comes_after_the_platforms_in_manifest_order() -> None:
    m = manifest(deployment={"env": {"FEATURE_X": "on", "API_TIMEOUT_MS": "500"}})
    container = _container(deployment(m, _base_config()))
    names = [var["name"] for var in container["env"]]
    assert names[-3:] == ["PORT", "FEATURE_X", "API_TIMEOUT_MS"]
    assert env_map(container)["FEATURE_X"] == "on"
    assert env_map(container)["API_TIMEOUT_MS"] == "500"


def test_probes_use_the_manifest_paths_and_the_guides_timings() -> None:
    container = _container(deployment(shipped("crm"), prod_stack()))
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/health/live", "port": "http"},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/health/ready", "port": "http"},
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }


def test_startup_probe_allows_the_stacks_health_deadline() -> None:
    container = _container(deployment(shipped("crm"), _base_config(health={"deadlineSeconds": 300})))
    startup = container["startupProbe"]
    assert startup["httpGet"] == {"path": "/health/live", "port": "http"}
    assert startup["periodSeconds"] == 5
    assert startup["periodSeconds"] * startup["failureThreshold"] == 300


def test_custom_probe_paths() -> None:
    m = manifest(api={"liveness": "/livez", "readiness": "/readyz"})
    container = _container(deployment(m, _base_config()))
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"


def test_resources_from_the_manifest() -> None:
    crm = _container(deployment(shipped("crm"), prod_stack()))
    assert crm["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    analytics = _container(deployment(shipped("analytics"), prod_stack()))
    assert analytics["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    explicit = manifest(
        runtime={"resources": {"cpu": "1.5", "memory": "2G", "requests": {"cpu": "100m", "memory": "500M"}}}
    )
    assert _container(deployment(explicit, _base_config()))["resources"] == {
        "requests": {"cpu": "100m", "memory": "500M"},
        "limits": {"cpu": "1500m", "memory": "2G"},
    }


def test_security_contexts() -> None:
    obj = deployment(shipped("crm"), prod_stack())
    pod = obj["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1001,
        "runAsGroup": 1001,
        "fsGroup": 1001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "plugin-crm"
    assert pod["enableServiceLinks"] is False
    container = _container(obj)
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1001,
        "runAsGroup": 1001,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_tmp_is_the_only_writable_path() -> None:
    obj = deployment(shipped("crm"), prod_stack())
    pod = obj["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    assert _container(obj)["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_rollout_and_shutdown() -> None:
    obj = deployment(shipped("crm"), _base_config(kubernetes={"progressDeadlineSeconds": 900}))
    spec = obj["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert spec["progressDeadlineSeconds"] == 900
    pod = spec["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["restartPolicy"] == "Always"
    # A sleep handler, not exec: the image may have no shell.
    assert _container(obj)["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_spread_across_nodes_when_several_pods() -> None:
    pod = deployment(shipped("crm"), prod_stack())["spec"]["template"]["spec"]
    assert pod["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": GUIDE_SELECTOR | {"plugin": "crm"}},
            "matchLabelKeys": ["pod-template-hash"],
        }
    ]


def test_no_spread_for_a_single_pod() -> None:
    stack = _base_config(defaultReplicas=1, kubernetes={"autoscaling": False})
    pod = deployment(shipped("crm"), stack)["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod


def test_image_registry_override_keeps_path_and_tag() -> None:
    stack = _base_config(imageRegistry="mirror.internal:5000/")
    assert plugin_image(shipped("crm"), stack) == "mirror.internal:5000/plugins/crm:1.2.0"
    digest = "sha256:" + "a" * 64
    pinned = manifest(runtime={"image": f"registry.plexica.io/plugins/crm@{digest}"})
    assert plugin_image(pinned, stack) == f"mirror.internal:5000/plugins/crm@{digest}"
    assert _container(deployment(shipped("crm"), stack))["image"] == "mirror.internal:5000/plugins/crm:1.2.0"


def test_image_pull_secrets_from_the_stack() -> None:
    stack = _base_config(kubernetes={"imagePullSecrets": ["plexica-registry"]})
    pod = deployment(shipped("crm"), stack)["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "plexica-registry"}]
    assert "imagePullSecrets" not in deployment(shipped("crm"), _base_config())["spec"]["template"]["spec"]


def test_namespace_follows_the_stack() -> None:
    obj = deployment(shipped("crm"), _base_config(namespace="plugins-prod"))
    assert obj["metadata"]["namespace"] == "plugins-prod"


def test_ready_dependencies_lists_the_dependencies_liveness_urls() -> None:
    crm, analytics = shipped("crm"), shipped("analytics")
    peers = plugin_peers(analytics, [crm, analytics])
    env = _container(deployment(analytics, prod_stack(), peers))["env"]
    names = [var["name"] for var in env]
    assert names[-2:] == ["PORT", "READY_DEPENDENCIES"]
    assert env[-1]["value"] == "http://plugin-crm.plexica.svc.cluster.local:3100/health/live"
    # crm depends on nothing: no READY_DEPENDENCIES.
    crm_env = _container(deployment(crm, prod_stack(), plugin_peers(crm, [crm, analytics])))["env"]
    assert "READY_DEPENDENCIES" not in [var["name"] for var in crm_env]


def test_ready_dependencies_with_several_dependencies() -> None:
    crm, analytics = shipped("crm"), shipped("analytics")
    reports = manifest(
        id="reports",
        api={"basePath": "/api/plugins/reports", "liveness": "/livez"},
        deployment={"port": 3300, "dependencies": ["crm", "analytics"]},
    )
    peers = plugin_peers(reports, [crm, analytics, reports])
    assert env_map(_container(deployment(reports, _base_config(namespace="p"), peers)))["READY_DEPENDENCIES"] == (
        "http://plugin-crm.p.svc.cluster.local:3100/health/live,"
        "http://plugin-analytics.p.svc.cluster.local:3200/health/live"
    )


def test_a_missing_dependency_is_named() -> None:
    with pytest.raises(KeyError, match="'analytics' depends on crm, which is not being deployed"):
        plugin_peers(shipped("analytics"), [shipped("analytics")])
