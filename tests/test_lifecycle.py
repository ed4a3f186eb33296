"""`plexica:core:Plugin` wiring under Pulumi mocks: which URLs go where, and in what order."""

from __future__ import annotations

from typing import Any

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.lifecycle import CoreApiPlugin, CoreApiPluginArgs, PluginEndpoints
from plexica_infra.manifest import PluginManifest
from tests.conftest import shipped_manifest
from tests.k8s._mocks import Run, is_secret_value, run_program

TOKEN = "lifecycle-test-token-5f3a"


def _base_config(**overrides: Any) -> StackConfig:
    values = {"target": "docker", "coreApiUrl": "http://127.0.0.1:4010", "kafkaBrokers": "k:1"} | overrides
    return StackConfig.model_validate(values)


def _secrets() -> StackSecrets:
    secret = pulumi.Output.secret
    return StackSecrets(secret(TOKEN), secret("db"), secret("redis"), secret("jwt"))


def _deploy(stack: StackConfig, *, gate: bool, secrets: StackSecrets | None = None) -> Run:
    def program() -> Any:
        nonlocal secrets
        secrets = secrets or _secrets()
        crm = CoreApiPlugin(
            "crm",
            CoreApiPluginArgs(
                manifest=PluginManifest.model_validate(shipped_manifest("crm")),
                stack=stack,
                secrets=secrets,
                endpoints=PluginEndpoints(
                    gate_urls=pulumi.Output.from_input(["http://127.0.0.1:32001"]),
                    registry_urls=pulumi.Output.from_input(["http://plexica-plugin-crm-abc1234:3100"]),
                    revision=pulumi.Output.from_input("rev1"),
                    gate=gate,
                ),
            ),
        )
        analytics = CoreApiPlugin(
            "analytics",
            CoreApiPluginArgs(
                manifest=PluginManifest.model_validate(shipped_manifest("analytics")),
                stack=stack,
                secrets=secrets,
                endpoints=PluginEndpoints(
                    gate_urls=pulumi.Output.from_input(["http://127.0.0.1:32002"]),
                    registry_urls=pulumi.Output.from_input(["http://plexica-plugin-analytics-def5678:3200"]),
                    gate=gate,
                ),
                dependencies=[crm],
            ),
        )
        return {"crm": crm.state, "analytics": analytics.state}

    return run_program(program)


def _named(run: Run, suffix: str) -> Any:
    [registration] = [r for r in run.registrations if r.name == suffix]
    return registration


def test_docker_flow_gates_on_host_urls_and_registers_network_urls() -> None:
    run = _deploy(_base_config(), gate=True)
    gate, service, registration = (_named(run, f"crm-{part}") for part in ("health", "service", "registration"))
    assert gate.inputs["base_urls"] == ["http://127.0.0.1:32001"]
    assert gate.inputs["revision"] == "rev1"
    assert (gate.inputs["live_p95_budget_ms"], gate.inputs["ready_p95_budget_ms"]) == (100, 200)
    assert service.inputs["endpoints"] == ["http://plexica-plugin-crm-abc1234:3100"]
    assert service.inputs["service_name"] == "plugin-crm"
    # The guide's order: register, health gate, the service registry, then install/enable.
    record = _named(run, "crm-record")
    assert record.urn in gate.dependencies
    assert gate.urn in service.dependencies
    assert service.urn in registration.dependencies
    assert record.inputs["manifest"] == registration.inputs["manifest"]
    assert registration.inputs["enabled"] is True
    assert registration.inputs["manifest"]["api"]["basePath"] == "/api/plugins/crm"
    assert is_secret_value(registration.inputs["token"]) and is_secret_value(service.inputs["token"])
    parent = _named(run, "crm")
    assert {record.parent, gate.parent, service.parent, registration.parent} == {parent.urn}
    assert parent.type == "plexica:core:Plugin"


def test_dependents_register_after_their_dependencies() -> None:
    run = _deploy(_base_config(), gate=True)
    assert _named(run, "crm-registration").urn in _named(run, "analytics-registration").dependencies
    assert _named(run, "crm-registration").urn in _named(run, "analytics-record").dependencies


def test_plexica_v1_with_client_credentials_reaches_every_resource() -> None:
    stack = _base_config(
        coreApiDialect="plexica-v1",
        coreApiAuth="client-credentials",
        coreApiTokenUrl="http://127.0.0.1:4010/realms/master/protocol/openid-connect/token",
        coreApiClientId="deployer",
        coreApiTenantSlug="acme",
    )
    secret = pulumi.Output.secret
    secrets = StackSecrets(None, secret("db"), secret("redis"), secret("jwt"), secret(TOKEN))
    run = _deploy(stack, gate=True, secrets=secrets)
    for part in ("record", "service", "registration"):
        resource = _named(run, f"crm-{part}")
        assert resource.inputs["dialect"] == "plexica-v1"
        assert resource.inputs["auth_mode"] == "client-credentials"
        assert resource.inputs["client_id"] == "deployer" and resource.inputs["tenant_slug"] == "acme"
        assert is_secret_value(resource.inputs["client_secret"])
        assert "token" not in resource.inputs or resource.inputs["token"] is None
    document = _named(run, "crm-registration").inputs["manifest"]
    assert "runtime" not in document and "deployment" not in document and "api" not in document
    assert _named(run, "crm-service").inputs["version"] == "1.2.0"


def test_kubernetes_flow_has_no_health_gate() -> None:
    run = _deploy(_base_config(), gate=False)
    assert [r.name for r in run.registrations if r.name.endswith("-health")] == []
    assert _named(run, "crm-service").inputs["endpoints"] == ["http://plexica-plugin-crm-abc1234:3100"]


def test_enabled_false_override_reaches_the_registration() -> None:
    run = _deploy(_base_config(plugins={"crm": {"enabled": False}}), gate=True)
    assert _named(run, "crm-registration").inputs["enabled"] is False
    assert _named(run, "analytics-registration").inputs["enabled"] is True


def test_token_never_appears_in_plain_inputs() -> None:
    run = _deploy(_base_config(), gate=True)
    for registration in run.registrations:
        for key, value in registration.inputs.items():
            if not is_secret_value(value):
                assert TOKEN not in repr(value), (registration.name, key)
