"""The props every resource registers are the ones it registered before its inputs model.

Existing stacks must see no diff: same type tokens, same property names, same values,
same secret marks. The expected dicts were recorded from the hand-listed constructors
(before `providers._inputs` existed) for the same arguments; `__provider` (a pickle) is
left out. The one deliberate change: a HealthGate created without `latency_samples`
gets the stack default (`HealthSettings`, 20) rather than the provider's drifted 10;
the program always passes the stack's value, so no stack sees it.
"""

from __future__ import annotations

from typing import Any

import pytest

from plexica_infra.config import HealthSettings
from plexica_infra.providers import HealthGate, PluginRecord, PluginRegistration, ServiceRegistration
from tests.k8s._mocks import is_secret_value, run_program, secret_payload

SECRET = {"<secret>": "tok-secret"}
CLIENT_SECRET = {"<secret>": "cs-secret"}
FULL: dict[str, Any] = {
    "core_api_url": "https://core-api.example.com",
    "token": "tok-secret",
    "insecure_skip_tls_verify": False,
    "dialect": "plexica-v1",
    "auth_mode": "client-credentials",
    "token_url": "https://kc.example.com/token",
    "client_id": "deployer",
    "client_secret": "cs-secret",
    "tenant_slug": "acme",
}
MIN_CONNECTION: dict[str, Any] = {"core_api_url": "http://127.0.0.1:3000", "token": "tok-secret"}
#: What the old constructors sent for the connection when given only a URL and a token.
OLD_MIN_CONNECTION: dict[str, Any] = {
    "auth_mode": "static",
    "client_id": "",
    "core_api_url": "http://127.0.0.1:3000",
    "dialect": "guide",
    "insecure_skip_tls_verify": False,
    "token": SECRET,
    "token_url": "",
}
OLD_FULL_CONNECTION: dict[str, Any] = {
    "auth_mode": "client-credentials",
    "client_id": "deployer",
    "client_secret": CLIENT_SECRET,
    "core_api_url": "https://core-api.example.com",
    "dialect": "plexica-v1",
    "insecure_skip_tls_verify": False,
    "tenant_slug": "acme",
    "token": SECRET,
    "token_url": "https://kc.example.com/token",
}
OLD_GATE_MIN: dict[str, Any] = {
    "base_urls": ["http://127.0.0.1:3100"],
    "deadline_seconds": 180.0,
    "failure_threshold": 3.0,
    "insecure_skip_tls_verify": False,
    "latency_samples": 10.0,
    "live_p95_budget_ms": 100.0,
    "liveness_path": "/health/live",
    "plugin_id": "crm",
    "probe_interval_seconds": 5.0,
    "readiness_path": "/health/ready",
    "ready_p95_budget_ms": 200.0,
    "revision": "",
    "start_period_seconds": 40.0,
}
GATE_FULL_ARGS: dict[str, Any] = {
    "plugin_id": "crm",
    "base_urls": ["http://127.0.0.1:3100", "http://127.0.0.1:3101"],
    "liveness_path": "/livez",
    "readiness_path": "/readyz",
    "deadline_seconds": 60,
    "start_period_seconds": 5,
    "failure_threshold": 4,
    "live_p95_budget_ms": 150,
    "ready_p95_budget_ms": 250,
    "latency_samples": 30,
    "probe_interval_seconds": 2.0,
    "insecure_skip_tls_verify": True,
    "revision": "r7",
}
OLD_GATE_FULL: dict[str, Any] = {
    "base_urls": ["http://127.0.0.1:3100", "http://127.0.0.1:3101"],
    "deadline_seconds": 60.0,
    "failure_threshold": 4.0,
    "insecure_skip_tls_verify": True,
    "latency_samples": 30.0,
    "live_p95_budget_ms": 150.0,
    "liveness_path": "/livez",
    "plugin_id": "crm",
    "probe_interval_seconds": 2.0,
    "readiness_path": "/readyz",
    "ready_p95_budget_ms": 250.0,
    "revision": "r7",
    "start_period_seconds": 5.0,
}


def _program() -> dict[str, Any]:
    manifest = {"name": "CRM"}
    PluginRecord("rec-min", plugin_id="crm", manifest=manifest, version="1.0.0", **MIN_CONNECTION)
    PluginRecord("rec-full", plugin_id="crm", manifest={"name": "CRM", "n": 1}, version="1.2.0", **FULL)
    ServiceRegistration(
        "svc-min", plugin_id="crm", service_name="plugin-crm", endpoints=["http://127.0.0.1:3100"], **MIN_CONNECTION
    )
    ServiceRegistration(
        "svc-full",
        plugin_id="crm",
        service_name="plugin-crm",
        endpoints=["http://a:1", "http://b:2"],
        version="1.2.0",
        **FULL,
    )
    PluginRegistration("reg-min", plugin_id="crm", manifest=manifest, version="1.0.0", **MIN_CONNECTION)
    PluginRegistration("reg-full", plugin_id="crm", manifest=manifest, version="1.2.0", enabled=False, **FULL)
    HealthGate("gate-min", plugin_id="crm", base_urls=["http://127.0.0.1:3100"])
    HealthGate("gate-full", **GATE_FULL_ARGS)
    return {}


EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("PluginRecord", "rec-min"): {
        **OLD_MIN_CONNECTION,
        "manifest": {"name": "CRM"},
        "plugin_id": "crm",
        "version": "1.0.0",
    },
    ("PluginRecord", "rec-full"): {
        **OLD_FULL_CONNECTION,
        "manifest": {"n": 1.0, "name": "CRM"},
        "plugin_id": "crm",
        "version": "1.2.0",
    },
    ("ServiceRegistration", "svc-min"): {
        **OLD_MIN_CONNECTION,
        "endpoints": ["http://127.0.0.1:3100"],
        "plugin_id": "crm",
        "service_name": "plugin-crm",
        "version": "0.0.0",
    },
    ("ServiceRegistration", "svc-full"): {
        **OLD_FULL_CONNECTION,
        "endpoints": ["http://a:1", "http://b:2"],
        "plugin_id": "crm",
        "service_name": "plugin-crm",
        "version": "1.2.0",
    },
    ("PluginRegistration", "reg-min"): {
        **OLD_MIN_CONNECTION,
        "enabled": True,
        "manifest": {"name": "CRM"},
        "plugin_id": "crm",
        "version": "1.0.0",
    },
    ("PluginRegistration", "reg-full"): {
        **OLD_FULL_CONNECTION,
        "enabled": False,
        "manifest": {"name": "CRM"},
        "plugin_id": "crm",
        "version": "1.2.0",
    },
    # The stack default replaces the provider's drifted copy (see the module docstring).
    ("HealthGate", "gate-min"): {**OLD_GATE_MIN, "latency_samples": float(HealthSettings().latency_samples)},
    ("HealthGate", "gate-full"): OLD_GATE_FULL,
}
#: The old constructors marked both secrets on every Core API resource, given or not.
OLD_SECRET_OUTPUTS = {"PluginRecord": ["client_secret", "token"], "HealthGate": []}


def _shown(value: Any) -> Any:
    return {"<secret>": secret_payload(value)} if is_secret_value(value) else value


@pytest.fixture(scope="module")
def registered() -> dict[tuple[str, str], Any]:
    run = run_program(_program)
    return {(kind, name): run.one(f"pulumi-python:dynamic/plexica:{kind}", name) for (kind, name) in EXPECTED}


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda key: key[1])
def test_props_are_what_the_hand_listed_constructors_sent(
    registered: dict[tuple[str, str], Any], key: tuple[str, str]
) -> None:
    registration = registered[key]
    inputs = {name: _shown(value) for name, value in registration.inputs.items() if name != "__provider"}
    assert inputs == EXPECTED[key]
    secret_outputs = OLD_SECRET_OUTPUTS.get(key[0], OLD_SECRET_OUTPUTS["PluginRecord"])
    assert sorted(registration.additional_secret_outputs) == secret_outputs


def test_the_gate_of_a_stack_sends_the_stack_settings() -> None:
    """What `lifecycle` passes: every budget from the stack's HealthSettings, so nothing moves."""
    health = HealthSettings()

    def program() -> dict[str, Any]:
        HealthGate(
            "gate-stack",
            plugin_id="crm",
            base_urls=["http://127.0.0.1:3100"],
            deadline_seconds=health.deadline_seconds,
            start_period_seconds=health.start_period_seconds,
            failure_threshold=health.failure_threshold,
            live_p95_budget_ms=health.live_budget_ms,
            ready_p95_budget_ms=health.ready_budget_ms,
            latency_samples=health.latency_samples,
        )
        return {}

    gate = run_program(program).one("pulumi-python:dynamic/plexica:HealthGate", "gate-stack")
    inputs = {name: value for name, value in gate.inputs.items() if name != "__provider"}
    assert inputs == {**OLD_GATE_MIN, "latency_samples": float(health.latency_samples)}
