"""The inputs models: one list of fields gives check, defaults, diff keys and props."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from plexica_infra.config import HealthSettings
from plexica_infra.providers import (
    CoreApiConnection,
    HealthGate,
    HealthGateInputs,
    HealthGateProvider,
    PluginRecordInputs,
    PluginRecordProvider,
    PluginRegistrationInputs,
    ServiceRegistrationInputs,
    ServiceRegistrationProvider,
)
from tests.providers._support import FAST

CONNECTION: dict[str, Any] = {"core_api_url": "http://127.0.0.1:3000", "token": "s3cret"}


def test_health_gate_defaults_are_the_stack_defaults() -> None:
    stack = HealthSettings()
    inputs = HealthGateInputs(plugin_id="crm", base_urls=["http://127.0.0.1:1"])
    assert (
        inputs.deadline_seconds,
        inputs.start_period_seconds,
        inputs.failure_threshold,
        inputs.live_p95_budget_ms,
        inputs.ready_p95_budget_ms,
        inputs.latency_samples,
    ) == (
        stack.deadline_seconds,
        stack.start_period_seconds,
        stack.failure_threshold,
        stack.live_budget_ms,
        stack.ready_budget_ms,
        stack.latency_samples,
    )
    filled = HealthGateProvider().check({}, {"plugin_id": "crm", "base_urls": ["http://127.0.0.1:1"]}).inputs
    assert filled["latency_samples"] == stack.latency_samples


def test_every_core_api_resource_takes_the_connection_inputs() -> None:
    shared = set(CoreApiConnection.model_fields)
    for model in (PluginRecordInputs, PluginRegistrationInputs, ServiceRegistrationInputs):
        assert shared <= set(model.model_fields), model.__name__
        keys = model.diff_keys()
        assert "token" not in keys and "client_secret" not in keys, "secrets are never diffed"
    # A record's manifest and version are the registration's to change: never diffed here.
    assert PluginRecordInputs.diff_keys() == (
        "plugin_id",
        "core_api_url",
        "insecure_skip_tls_verify",
        "dialect",
        "auth_mode",
        "token_url",
        "client_id",
        "tenant_slug",
    )


def test_check_names_an_unknown_input_and_what_is_accepted() -> None:
    news = {"plugin_id": "crm", "service_name": "plugin-crm", "endpoints": ["http://127.0.0.1:1"], "endpiont": "x"}
    failures = ServiceRegistrationProvider(FAST).check({}, {**news, **CONNECTION, "__provider": "p"}).failures
    assert [(failure.property, failure.reason) for failure in failures] == [
        (
            "endpiont",
            "ServiceRegistration has no input 'endpiont'; accepted: core_api_url, token, client_secret, "
            "insecure_skip_tls_verify, dialect, auth_mode, token_url, client_id, tenant_slug, plugin_id, "
            "service_name, endpoints, version",
        )
    ]


def test_check_reports_the_connection_rules() -> None:
    news = {
        "plugin_id": "crm",
        "manifest": {"name": "CRM"},
        "version": "1.0.0",
        "core_api_url": "http://127.0.0.1:3000",
        "dialect": "graphql",
        "auth_mode": "client-credentials",
    }
    reasons = {f.property: f.reason for f in PluginRecordProvider(FAST).check({}, news).failures}
    assert reasons == {
        "dialect": "dialect must be one of guide, plexica-v1 (plexica:coreApiDialect)",
        "token_url": "token_url is required with client-credentials auth (plexica:coreApiTokenUrl)",
        "client_id": "client_id is required with client-credentials auth (plexica:coreApiClientId)",
    }


def test_unknown_values_are_not_judged() -> None:
    news = {"plugin_id": UNKNOWN, "base_urls": [UNKNOWN], "deadline_seconds": UNKNOWN}
    assert HealthGateProvider().check({}, news).failures == []


def test_a_resource_refuses_an_input_it_does_not_take() -> None:
    with pytest.raises(TypeError, match=r"^HealthGate: unknown input 'base_url'; accepted: plugin_id, base_urls, "):
        HealthGate("gate", plugin_id="crm", base_url="http://127.0.0.1:1")
    with pytest.raises(TypeError, match=r"^HealthGate: the input 'base_urls' is required$"):
        HealthGate("gate", plugin_id="crm")


def test_secrets_are_never_dumped_or_shown() -> None:
    inputs = PluginRecordInputs(
        plugin_id="crm", manifest={"name": "CRM"}, version="1.0.0", client_secret="cs", **CONNECTION
    )
    assert "token" not in inputs.inputs() and "client_secret" not in inputs.inputs()
    assert "s3cret" not in repr(inputs) and "'cs'" not in repr(inputs)
    assert inputs.inputs()["tenant_slug"] == "global" and inputs.inputs()["dialect"] == "guide"
