"""The prod program on a real cluster, end to end, in the order a team lives it.

First deploy → no-op preview → version bump as a rolling update (gateway polled every
50 ms, zero failures) → failed rollout rolled back automatically, then the fixed
manifest proceeds → invalid manifest touches nothing → plugin removed → destroy.
Every check reads the API server (lightkube) or the Core API emulator; nothing here
reads our own renderer. The tests share one stack and run in file order.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.resources.autoscaling_v2 import HorizontalPodAutoscaler
from lightkube.resources.core_v1 import ConfigMap, Pod, Secret, Service, ServiceAccount
from lightkube.resources.networking_v1 import NetworkPolicy
from lightkube.resources.policy_v1 import PodDisruptionBudget
from pulumi import automation as auto

from plexica_infra.localenv.ephemeral_kube import SMALL_REQUESTS, KubeProject
from plexica_infra.localenv.gateway_poller import GatewayPoller

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.engine]

PLUGINS = ("crm", "analytics")
KINDS: dict[str, Any] = {
    "Deployment": Deployment,
    "Service": Service,
    "ServiceAccount": ServiceAccount,
    "NetworkPolicy": NetworkPolicy,
    "HorizontalPodAutoscaler": HorizontalPodAutoscaler,
    "PodDisruptionBudget": PodDisruptionBudget,
    "Secret": Secret,
    "ConfigMap": ConfigMap,
}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _pod_images(project: KubeProject, plugin_id: str) -> set[str]:
    """The images of the plugin's pods still in the API server (terminating ones included)."""
    pods = (x.to_dict() for x in project.api.list(Pod, namespace=project.namespace, labels={"plugin": plugin_id}))
    return {pod["spec"]["containers"][0]["image"] for pod in pods}


def _wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Bounded polling for a state the cluster reaches on its own (never a timing claim)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s"
        time.sleep(0.5)


def _ready_pods(project: KubeProject, plugin_id: str) -> list[dict[str, Any]]:
    pods = [p.to_dict() for p in project.api.list(Pod, namespace=project.namespace, labels={"plugin": plugin_id})]
    return [
        p
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions") or [])
    ]


def test_first_deploy_creates_every_object_as_the_manifests_say(kube_project: KubeProject) -> None:
    p = kube_project
    result = p.up()
    assert result.summary.result == "succeeded"

    # Every Kubernetes object in the stack exists in the API server.
    exported = p.stack.export_stack().deployment
    assert exported is not None
    state = exported["resources"]
    emitted = [r for r in state if r["type"].startswith("kubernetes:") and r["type"] != "pulumi:providers:kubernetes"]
    kinds = {r["type"].rsplit(":", 1)[1] for r in emitted}
    assert {"Namespace", "Secret", "ConfigMap", "Deployment", "Service", "ServiceAccount", "NetworkPolicy"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    for resource in emitted:
        kind = resource["type"].rsplit(":", 1)[1]
        if kind == "Namespace":
            continue
        name = resource["outputs"]["metadata"]["name"]
        assert p.get(KINDS[kind], name) is not None, f"{kind} {name} is in the stack but not in the cluster"

    for plugin_id in PLUGINS:
        manifest = p.manifest(plugin_id)
        name = f"plugin-{plugin_id}"
        deployment = p.get(Deployment, name)
        assert deployment is not None
        container = _container(deployment)
        assert container["image"] == manifest["runtime"]["image"]
        limits = container["resources"]["limits"]
        assert (limits["cpu"], limits["memory"]) == (
            manifest["runtime"]["resources"]["cpu"],
            manifest["runtime"]["resources"]["memory"],
        )
        assert container["resources"]["requests"] == SMALL_REQUESTS
        assert container["readinessProbe"]["httpGet"]["path"] == manifest["api"]["readiness"]
        assert container["livenessProbe"]["httpGet"]["path"] == manifest["api"]["liveness"]
        assert container["ports"][0]["containerPort"] == manifest["deployment"]["port"]
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True and security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
        assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
        assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
        # Secrets by reference only: the Deployment holds no secret value.
        env = {e["name"]: e for e in container["env"]}
        for var in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET"):
            assert "value" not in env[var] and env[var]["valueFrom"]["secretKeyRef"]["name"].startswith("plexica-")
        assert env["PLUGIN_VERSION"]["value"] == manifest["version"]
        # Really serving: the HPA raises the Deployment to its floor of 2, every pod ready.
        deadline = time.monotonic() + 60
        while len(_ready_pods(p, plugin_id)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(_ready_pods(p, plugin_id)) >= 2

        policy = p.get(NetworkPolicy, f"{name}-network-policy")
        assert policy is not None and policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert policy["spec"]["podSelector"]["matchLabels"]["plugin"] == plugin_id
        hpa = p.get(HorizontalPodAutoscaler, f"{name}-hpa")
        assert hpa is not None and hpa["spec"]["scaleTargetRef"]["name"] == name
        assert hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 10
        pdb = p.get(PodDisruptionBudget, f"{name}-pdb")
        assert pdb is not None and pdb["spec"]["selector"]["matchLabels"]["plugin"] == plugin_id
        service = p.get(Service, name)
        assert service is not None and service["spec"]["ports"][0]["port"] == manifest["deployment"]["port"]
        account = p.get(ServiceAccount, name)
        assert account is not None and account.get("automountServiceAccountToken") is False

        # The Core API has it ACTIVE, registered at the Service's ClusterIP, and the
        # gateway reaches the pods through kube-proxy.
        core = p.core_plugin(plugin_id)
        assert core is not None and core["state"] == "ACTIVE" and core["version"] == manifest["version"]
        response = p.gateway(plugin_id, "info")
        assert response.status_code == 200 and response.json()["version"] == manifest["version"]

    # The shared Secrets hold the stack's values; the scrape config names every plugin.
    secrets = p.secrets()
    database = p.get(Secret, "plexica-database")
    assert database is not None
    assert base64.b64decode(database["data"]["connection-string"]).decode() == secrets["databaseUrl"]
    scrape = p.get(ConfigMap, "plexica-plugin-scrape-configs")
    assert scrape is not None
    jobs = yaml.safe_load(scrape["data"]["plugins.yml"])["scrape_configs"]
    assert sorted(job["job_name"] for job in jobs) == sorted(f"plugin-{pid}" for pid in PLUGINS)
    # No secret value in plaintext in the stored state.
    text = p.stored_state_text()
    for value in secrets.values():
        assert value not in text


def test_second_preview_changes_nothing(kube_project: KubeProject) -> None:
    preview = kube_project.preview()
    changes = {op: n for op, n in preview.change_summary.items() if op != "same" and n}
    assert changes == {}, changes


def _bump(manifest: dict[str, Any], version: str) -> None:
    manifest["version"] = version
    image = manifest["runtime"]["image"].rsplit(":", 1)[0]
    manifest["runtime"]["image"] = f"{image}:{version}"


def test_version_bump_is_a_rolling_update_without_failed_requests(kube_project: KubeProject) -> None:
    p = kube_project
    before = p.get(Deployment, "plugin-crm")
    assert before is not None
    p.edit_manifest("crm", lambda m: _bump(m, "1.2.1"))
    with GatewayPoller(p.gateway_url("crm", "info")) as poller:
        p.up()
        # The old pods drain (preStop, then SIGTERM) after `up`: keep polling until they are
        # gone and the new version answers, then a little longer.
        _wait_until(
            lambda: _pod_images(p, "crm") == {_container(p.get(Deployment, "plugin-crm") or {})["image"]},
            180,
            "the 1.2.0 pods are not gone",
        )
        poller.wait_for_version("1.2.1", timeout=60)
        poller.wait_for_samples(len(poller.snapshot()) + 20)
    assert not poller.exhausted, "the poller stopped before the update ended"
    assert poller.failures() == [], poller.describe()
    assert set(poller.versions()) == {"1.2.0", "1.2.1"}
    after = p.get(Deployment, "plugin-crm")
    assert after is not None
    assert _container(after)["image"].endswith(":1.2.1")
    assert after["metadata"]["uid"] == before["metadata"]["uid"], "a rolling update, not a replacement"
    assert int(after["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) > int(
        before["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    )
    core = p.core_plugin("crm")
    assert core is not None and core["version"] == "1.2.1" and core["state"] == "ACTIVE"


def test_failed_rollout_rolls_back_and_the_fixed_manifest_then_proceeds(kube_project: KubeProject) -> None:
    p = kube_project

    # 1.3.0 never becomes ready: its readiness path does not exist.
    def broken(m: dict[str, Any]) -> None:
        _bump(m, "1.3.0")
        m["api"]["readiness"] = "/health/never-ready"

    p.edit_manifest("crm", broken)
    with GatewayPoller(p.gateway_url("crm", "info")) as poller, pytest.raises(auto.CommandError) as failed:
        p.up()
    message = str(failed.value)
    assert "plugin crm: rollout of registry.plexica.io/plugins/crm:1.3.0 failed (readiness never passed" in message
    assert "back to revision" in message and "registry.plexica.io/plugins/crm:1.2.1" in message
    assert "serving again" in message and "Traceback" not in message
    # Restored in the cluster: the old template, every replica ready; the failed 1.3.0 pods
    # terminate on their own (grace period), after which only 1.2.1 pods are left.
    deployment = p.get(Deployment, "plugin-crm")
    assert deployment is not None
    assert _container(deployment)["image"].endswith(":1.2.1")
    assert deployment["status"]["availableReplicas"] >= 1
    _wait_until(
        lambda: _pod_images(p, "crm") == {"registry.plexica.io/plugins/crm:1.2.1"},
        120,
        "the failed 1.3.0 pods are not gone",
    )
    # The Core API never heard of 1.3.0, traffic kept flowing, and 1.3.0 never took any.
    core = p.core_plugin("crm")
    assert core is not None and core["version"] == "1.2.1" and core["state"] == "ACTIVE"
    assert not poller.exhausted, "the poller stopped before the update ended"
    assert poller.failures() == [], poller.describe()
    assert "1.3.0" not in poller.versions() and len(poller.snapshot()) > 0

    # The same broken manifest again: rolled back again (converges, no half state).
    with pytest.raises(auto.CommandError):
        p.up()
    assert _container(p.get(Deployment, "plugin-crm") or {})["image"].endswith(":1.2.1")

    # Fixed manifest: the next up proceeds normally.
    p.edit_manifest("crm", lambda m: m["api"].update(readiness="/health/ready"))
    p.up()
    deployment = p.get(Deployment, "plugin-crm")
    assert deployment is not None and _container(deployment)["image"].endswith(":1.3.0")
    core = p.core_plugin("crm")
    assert core is not None and core["version"] == "1.3.0" and core["state"] == "ACTIVE"


def test_crashing_pods_roll_back_before_the_deadline(kube_project: KubeProject) -> None:
    p = kube_project
    # An image reference the node does not hold and cannot pull: the new pods never start.
    p.edit_manifest("crm", lambda m: _bump(m, "1.4.0"))
    missing_image = "registry.plexica.io/plugins/crm:1.4.0"
    with pytest.raises(auto.CommandError) as failed:
        p.up_without_images()
    # The trigger is the pods' waiting reason, not the rollout deadline.
    assert f"plugin crm: rollout of {missing_image} failed (pod plugin-crm-" in str(failed.value)
    deployment = p.get(Deployment, "plugin-crm")
    assert deployment is not None and _container(deployment)["image"].endswith(":1.3.0")
    core = p.core_plugin("crm")
    assert core is not None and core["version"] == "1.3.0"
    p.edit_manifest("crm", lambda m: _bump(m, "1.3.0"))


def test_invalid_manifest_touches_nothing(kube_project: KubeProject) -> None:
    p = kube_project
    versions = {name: (p.get(Deployment, f"plugin-{name}") or {})["metadata"]["resourceVersion"] for name in PLUGINS}
    good = p.manifest("analytics")
    p.edit_manifest("analytics", lambda m: m["deployment"].update(port=-5))
    try:
        with pytest.raises(auto.CommandError) as failed:
            p.up_without_images()
        message = str(failed.value)
        assert "plugins/analytics/plugin.json" in message and "port" in message
        assert "Traceback" not in message
    finally:
        p.write_manifest("analytics", good)
    after = {name: (p.get(Deployment, f"plugin-{name}") or {})["metadata"]["resourceVersion"] for name in PLUGINS}
    assert after == versions


def test_removed_plugin_is_deleted_and_uninstalled(kube_project: KubeProject) -> None:
    p = kube_project
    p.remove_manifest("analytics")
    p.up()
    name = "plugin-analytics"
    for kind, object_name in (
        (Deployment, name),
        (Service, name),
        (ServiceAccount, name),
        (NetworkPolicy, f"{name}-network-policy"),
        (HorizontalPodAutoscaler, f"{name}-hpa"),
        (PodDisruptionBudget, f"{name}-pdb"),
    ):
        assert p.get(kind, object_name) is None, f"{kind.__name__} {object_name} is still there"
    assert not [x for x in p.api.list(ReplicaSet, namespace=p.namespace, labels={"plugin": "analytics"})]
    # Uninstalled in the Core API, as the Docker stacks leave a removed plugin.
    removed = p.core_plugin("analytics")
    assert removed is not None and removed["state"] == "UNINSTALLED"
    core = p.core_plugin("crm")
    assert core is not None and core["state"] == "ACTIVE"
    scrape = p.get(ConfigMap, "plexica-plugin-scrape-configs")
    assert scrape is not None and "plugin-analytics" not in scrape["data"]["plugins.yml"]


def test_destroy_leaves_the_namespace_empty(kube_project: KubeProject) -> None:
    p = kube_project
    p.destroy()
    destroyed = p.core_plugin("crm")
    assert destroyed is not None and destroyed["state"] == "UNINSTALLED"
    for kind in (Deployment, Service, NetworkPolicy, HorizontalPodAutoscaler, PodDisruptionBudget, Secret):
        assert p.names(kind) == set(), f"{kind.__name__} left: {p.names(kind)}"
    assert p.names(ServiceAccount) <= {"default"}
    assert p.names(ConfigMap) <= {"kube-root-ca.crt"}
    deadline = time.monotonic() + 60
    while p.names(Pod) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert p.names(Pod) == set()
