"""The components under Pulumi mocks: which resources exist, how they are wired, what
they output. Mocks are set (by `tests.k8s._mocks`) before the program is imported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pytest

from tests.k8s._mocks import Registration, Run, is_secret_value, run_program, secret_payload  # sets mocks
from tests.k8s._support import SECRET_VALUES, _base_config, manifest, prod_stack, shipped_plugins

from plexica_infra.config import StackConfig, StackSecrets  # isort: skip
from plexica_infra.errors import StackConfigError  # isort: skip
from plexica_infra.k8s.objects import platform_objects, plugin_objects  # isort: skip
from plexica_infra.k8s.peers import plugin_peers  # isort: skip
from plexica_infra.k8s.program import deploy_kubernetes  # isort: skip
from plexica_infra.loader import LoadedPlugin  # isort: skip

OUTPUTS = ("service_dns", "port", "deployment_name", "instance_urls", "health_urls")


def _secrets() -> StackSecrets:
    return StackSecrets(**{key: pulumi.Output.secret(value) for key, value in SECRET_VALUES.items()})


def _deploy(stack: StackConfig, plugins: Sequence[LoadedPlugin] | None = None) -> Run:
    loaded = shipped_plugins() if plugins is None else list(plugins)

    def program() -> dict[str, Any]:
        deployed = deploy_kubernetes(loaded, stack, _secrets())
        return {pid: {name: getattr(c, name) for name in OUTPUTS} for pid, c in deployed.items()}

    return run_program(program)


@pytest.fixture(scope="module")
def prod() -> Run:
    return _deploy(prod_stack())


def _pulumi_type(obj: dict[str, Any]) -> str:
    api_version = "core/v1" if obj["apiVersion"] == "v1" else obj["apiVersion"]
    return f"kubernetes:{api_version}:{obj['kind']}"


def _k8s(run: Run) -> list[Registration]:
    return [r for r in run.registrations if r.type.startswith("kubernetes:")]


def test_components_and_type_tokens(prod: Run) -> None:
    (platform,) = prod.of_type("plexica:k8s:Platform")
    assert platform.name == "plexica"
    plugins = prod.of_type("plexica:k8s:Plugin")
    assert sorted(p.name for p in plugins) == ["plugin-analytics", "plugin-crm"]


def test_full_resource_set_per_plugin(prod: Run) -> None:
    for component in prod.of_type("plexica:k8s:Plugin"):
        children = sorted((r.type, r.name) for r in prod.children_of(component.urn))
        pid = component.name.removeprefix("plugin-")
        assert children == sorted(
            [
                ("kubernetes:core/v1:ServiceAccount", f"plugin-{pid}"),
                ("kubernetes:networking.k8s.io/v1:NetworkPolicy", f"plugin-{pid}-network-policy"),
                ("kubernetes:apps/v1:Deployment", f"plugin-{pid}"),
                ("kubernetes:core/v1:Service", f"plugin-{pid}"),
                ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"plugin-{pid}-hpa"),
                ("kubernetes:policy/v1:PodDisruptionBudget", f"plugin-{pid}-pdb"),
                # The rollout guard (plexica_infra.k8s.rollback): waits for the rollout, rolls back on failure.
                ("pulumi-python:dynamic/plexica:RolloutGuard", f"plugin-{pid}-rollout"),
                # Waits, when the plugin is removed, until its Deployment is gone (plexica_infra.k8s.deletion_wait).
                ("pulumi-python:dynamic/plexica:DeletionWait", f"plugin-{pid}-deletion"),
            ]
        )


def test_platform_resources(prod: Run) -> None:
    (platform,) = prod.of_type("plexica:k8s:Platform")
    children = sorted((r.type, r.name) for r in prod.children_of(platform.urn))
    assert children == sorted(
        [
            ("pulumi:providers:kubernetes", "plexica-kubernetes"),
            ("kubernetes:core/v1:Namespace", "plexica"),
            ("kubernetes:core/v1:Secret", "plexica-database"),
            ("kubernetes:core/v1:Secret", "plexica-redis"),
            ("kubernetes:core/v1:Secret", "plexica-secrets"),
            ("kubernetes:core/v1:ConfigMap", "plexica-plugin-scrape-configs"),
        ]
    )
    # Exactly three Secrets in the whole stack: once per namespace, not per plugin.
    assert len(prod.of_type("kubernetes:core/v1:Secret")) == 3


def test_only_the_namespace_is_retained_on_delete(prod: Run) -> None:
    retained = [(r.type, r.name) for r in prod.registrations if r.retain_on_delete]
    assert retained == [("kubernetes:core/v1:Namespace", "plexica")]


def test_every_kubernetes_resource_uses_the_stack_provider(prod: Run) -> None:
    (provider,) = prod.of_type("pulumi:providers:kubernetes")
    for registration in _k8s(prod):
        assert registration.provider.startswith(provider.urn + "::"), registration.name


def test_inputs_are_exactly_the_built_specs(prod: Run) -> None:
    stack = prod_stack()
    manifests = [p.manifest for p in shipped_plugins()]
    for plugin_manifest in manifests:
        for obj in plugin_objects(plugin_manifest, stack, plugin_peers(plugin_manifest, manifests)).all():
            registered = prod.one(_pulumi_type(obj), obj["metadata"]["name"])
            assert registered.inputs == obj
    platform = platform_objects([p.manifest for p in shipped_plugins()], stack)
    for optional in (platform.namespace, platform.scrape_config):
        assert optional is not None
        assert prod.one(_pulumi_type(optional), optional["metadata"]["name"]).inputs == optional


def test_shared_secrets_hold_the_stack_secrets_as_secrets(prod: Run) -> None:
    expected = {
        "plexica-database": ("connection-string", SECRET_VALUES["database_url"]),
        "plexica-redis": ("connection-string", SECRET_VALUES["redis_url"]),
        "plexica-secrets": ("jwt-secret", SECRET_VALUES["jwt_secret"]),
    }
    for name, (key, value) in expected.items():
        registration = prod.one("kubernetes:core/v1:Secret", name)
        assert registration.inputs["type"] == "Opaque"
        assert registration.inputs["metadata"]["namespace"] == "plexica"
        assert secret_payload(registration.inputs["stringData"]) == {key: value}
        assert {"data", "stringData"} <= set(registration.additional_secret_outputs)


def _without_secrets(value: Any) -> Any:
    if is_secret_value(value):
        return "<secret>"
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def test_no_secret_value_in_any_plaintext_input_or_log(prod: Run) -> None:
    plaintext = repr([_without_secrets(r.inputs) for r in prod.registrations]) + repr(prod.logs)
    for value in SECRET_VALUES.values():
        assert value not in plaintext
    # The values did reach the engine, but only inside secrets.
    everything = repr([r.inputs for r in prod.registrations])
    for key in ("database_url", "redis_url", "jwt_secret"):
        assert SECRET_VALUES[key] in everything
    # The Core API token is not a plugin secret: it never enters the cluster.
    assert SECRET_VALUES["core_api_token"] not in everything


def test_deployment_waits_for_namespace_secrets_account_and_policy(prod: Run) -> None:
    urns = {(r.type, r.name): r.urn for r in prod.registrations}
    deployment = prod.one("kubernetes:apps/v1:Deployment", "plugin-crm")
    assert set(deployment.dependencies) >= {
        urns[("kubernetes:core/v1:Namespace", "plexica")],
        urns[("kubernetes:core/v1:Secret", "plexica-database")],
        urns[("kubernetes:core/v1:Secret", "plexica-redis")],
        urns[("kubernetes:core/v1:Secret", "plexica-secrets")],
        urns[("kubernetes:core/v1:ServiceAccount", "plugin-crm")],
        urns[("kubernetes:networking.k8s.io/v1:NetworkPolicy", "plugin-crm-network-policy")],
    }
    namespace = urns[("kubernetes:core/v1:Namespace", "plexica")]
    for registration in _k8s(prod):
        if registration.urn != namespace:
            assert namespace in registration.dependencies, registration.name


def test_dependencies_become_depends_on(prod: Run) -> None:
    crm_deployment = prod.one("kubernetes:apps/v1:Deployment", "plugin-crm")
    analytics_deployment = prod.one("kubernetes:apps/v1:Deployment", "plugin-analytics")
    # analytics' pods start only once crm's Deployment is rolled out (ready): its rollout
    # guard, which itself waits for crm's Deployment, says so.
    crm_guard = prod.one("pulumi-python:dynamic/plexica:RolloutGuard", "plugin-crm-rollout")
    assert crm_guard.urn in analytics_deployment.dependencies
    assert crm_deployment.urn in crm_guard.dependencies
    # Each Deployment depends on its deletion wait: Pulumi deletes the wait after it.
    crm_wait = prod.one("pulumi-python:dynamic/plexica:DeletionWait", "plugin-crm-deletion")
    assert crm_wait.urn in crm_deployment.dependencies
    crm = prod.one("plexica:k8s:Plugin", "plugin-crm")
    crm_children = {r.urn for r in prod.children_of(crm.urn)}
    analytics = prod.one("plexica:k8s:Plugin", "plugin-analytics")
    for child in prod.children_of(analytics.urn):
        if child.urn != analytics_deployment.urn:
            assert not crm_children & set(child.dependencies), child.name
    analytics_children = {r.urn for r in prod.children_of(analytics.urn)}
    for child in prod.children_of(crm.urn):
        assert not analytics_children & set(child.dependencies), child.name


def test_dependency_wiring_reaches_env_and_policies(prod: Run) -> None:
    analytics = prod.one("kubernetes:apps/v1:Deployment", "plugin-analytics").inputs
    env = analytics["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "READY_DEPENDENCIES",
        "value": "http://plugin-crm.plexica.svc.cluster.local:3100/health/live",
    } in env
    crm_policy = prod.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "plugin-crm-network-policy").inputs
    sources = [
        peer["podSelector"]["matchLabels"].get("plugin")
        for rule in crm_policy["spec"]["ingress"]
        for peer in rule["from"]
    ]
    assert "analytics" in sources


def test_outputs(prod: Run) -> None:
    assert prod.outputs == {
        "crm": {
            "service_dns": "plugin-crm.plexica.svc.cluster.local",
            "port": 3100,
            "deployment_name": "plugin-crm",
            "instance_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100"],
            "health_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100/health/ready"],
        },
        "analytics": {
            "service_dns": "plugin-analytics.plexica.svc.cluster.local",
            "port": 3200,
            "deployment_name": "plugin-analytics",
            "instance_urls": ["http://plugin-analytics.plexica.svc.cluster.local:3200"],
            "health_urls": ["http://plugin-analytics.plexica.svc.cluster.local:3200/health/ready"],
        },
    }


def test_provider_context_and_render_directory(tmp_path: Any) -> None:
    stack = prod_stack(context="prod-eu", renderYamlTo=str(tmp_path / "rendered"))
    run = _deploy(stack)
    (provider,) = run.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "prod-eu"
    assert provider.inputs["renderYamlToDirectory"] == str(tmp_path / "rendered")
    # Rendered files would hold the values in plaintext: no Secrets, and a warning that
    # names them but no value.
    assert run.of_type("kubernetes:core/v1:Secret") == []
    warnings = [message for level, message in run.logs if "renderYamlTo" in message]
    assert len(warnings) == 1
    assert "plexica-database" in warnings[0]
    for value in SECRET_VALUES.values():
        assert value not in warnings[0]
    assert len(run.of_type("kubernetes:apps/v1:Deployment")) == 2


def test_render_with_secrets_opt_in(tmp_path: Any) -> None:
    run = _deploy(prod_stack(renderYamlTo=str(tmp_path), renderSecrets=True))
    assert len(run.of_type("kubernetes:core/v1:Secret")) == 3
    assert not [message for _, message in run.logs if "renderYamlTo" in message]


def test_adopted_namespace_is_not_managed() -> None:
    run = _deploy(prod_stack(createNamespace=False))
    assert run.of_type("kubernetes:core/v1:Namespace") == []
    deployment = run.one("kubernetes:apps/v1:Deployment", "plugin-crm")
    assert deployment.inputs["metadata"]["namespace"] == "plexica"
    assert run.outputs["crm"]["service_dns"] == "plugin-crm.plexica.svc.cluster.local"


def test_prometheus_operator_mode() -> None:
    run = _deploy(prod_stack(prometheusOperator=True))
    assert run.of_type("kubernetes:core/v1:ConfigMap") == []
    monitors = run.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    rules = run.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert sorted(r.name for r in monitors) == ["plugin-analytics", "plugin-crm"]
    assert sorted(r.name for r in rules) == ["plugin-analytics-alerts", "plugin-crm-alerts"]
    monitor = run.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "plugin-crm")
    assert monitor.inputs["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor.inputs["kind"] == "ServiceMonitor"
    assert monitor.inputs["spec"]["endpoints"][0]["port"] == "http"
    crm = run.one("plexica:k8s:Plugin", "plugin-crm")
    assert monitor.parent == crm.urn


def test_no_hpa_and_no_pdb_for_a_pinned_single_pod() -> None:
    run = _deploy(_base_config(defaultReplicas=1, kubernetes={"autoscaling": False}))
    assert run.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []
    assert run.of_type("kubernetes:policy/v1:PodDisruptionBudget") == []
    assert run.one("kubernetes:apps/v1:Deployment", "plugin-crm").inputs["spec"]["replicas"] == 1


def test_wrong_target_is_refused() -> None:
    stack = _base_config(target="docker")
    with pytest.raises(StackConfigError, match="needs 'kubernetes'"):
        run_program(lambda: deploy_kubernetes(shipped_plugins(), stack, _secrets()) and None)


def test_manifest_env_reaches_the_container() -> None:
    plugin = LoadedPlugin(path=shipped_plugins()[0].path, manifest=manifest(deployment={"env": {"FEATURE": "x"}}))
    run = _deploy(prod_stack(), [plugin])
    env = run.one("kubernetes:apps/v1:Deployment", "plugin-crm").inputs["spec"]["template"]["spec"]["containers"][0][
        "env"
    ]
    assert env[-1] == {"name": "FEATURE", "value": "x"}
