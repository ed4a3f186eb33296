"""No token and no secret string in what Pulumi stores: outputs, the pickled provider, errors.

Every check goes through `_leaks`, and `test_the_checks_catch_a_provider_that_leaks`
shows they fail for a provider that echoes its token: a `read` handed the secret
inputs (as the engine may) must still keep them out of its outputs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import dill  # type: ignore[import-untyped]
import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from plexica_infra.providers import (
    CLIENT_SECRET_CONFIG_KEY,
    TOKEN_CONFIG_KEY,
    CoreApiAuthError,
    HealthGate,
    HealthGateProvider,
    PluginRecord,
    PluginRecordProvider,
    PluginRegistration,
    PluginRegistrationProvider,
    ServiceRegistration,
    ServiceRegistrationProvider,
    _auth,
)
from tests._emulator import Emulator, FakePlugin
from tests.k8s._mocks import is_secret_value, run_program, secret_payload
from tests.providers._support import FAST, new_plugin_id, plugin_props, service_props

SECRET = "s3cret-token-never-stored"


def _flat(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _pickled(provider: Any) -> bytes:
    return base64.b64decode(serialize_provider(provider))


def _leaks(stored: Any, *secrets: str) -> list[str]:
    """The secrets found anywhere in `stored` (outputs, errors: any JSON-able value)."""
    text = stored.decode(errors="replace") if isinstance(stored, bytes) else _flat(stored)
    return [secret for secret in secrets if secret and secret in text]


def _live_tokens() -> list[str]:
    """Every token the client-credentials cache of this process holds right now."""
    with _auth._LOCK:
        return [cached.token for cached in _auth._CACHE.values()]


def test_outputs_and_pickled_providers_hold_no_token(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, plugin = new_plugin_id(), fake_plugin()
    services, plugins = ServiceRegistrationProvider(FAST), PluginRegistrationProvider(FAST)
    gate = HealthGateProvider()
    for configurable in (services, plugins):
        configurable.configure(ConfigureRequest(Config({TOKEN_CONFIG_KEY: emulator.token}, "plexica-infra")))

    stored = [
        gate.create(
            # This test is about secrets, not latency: budgets a loaded CI machine always meets.
            {
                "plugin_id": plugin_id,
                "base_urls": [plugin.url],
                "start_period_seconds": 0,
                "live_p95_budget_ms": 5000,
                "ready_p95_budget_ms": 5000,
            }
        ).outs,
        services.create(service_props(emulator, plugin_id, plugin)).outs,
    ]
    created = plugins.create(plugin_props(emulator, plugin_id))
    stored.append(created.outs)
    assert created.outs is not None
    stored.append(plugins.update(plugin_id, created.outs, plugin_props(emulator, plugin_id, enabled=False)).outs)
    # The engine may hand `read` the secret inputs next to the outputs: they must not come back.
    stored.append(plugins.read(plugin_id, {**created.outs, "token": emulator.token}).outs)
    assert stored[1] is not None
    stored.append(services.read(f"{plugin_id}/x", {**stored[1], "token": emulator.token}).outs)

    for outputs in stored:
        assert outputs is not None and "token" not in outputs
        assert _leaks(outputs, emulator.token) == []
    for provider in (services, plugins, gate):
        blob = _pickled(provider)
        assert emulator.token.encode() not in blob
        restored = dill.loads(blob)
        assert type(restored) is type(provider)
        assert getattr(restored, "_configured_token", None) is None
    assert plugins._configured_token == emulator.token, "configure() did work; it just never pickles"


def test_the_checks_catch_a_provider_that_leaks(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    """The same `read` as above, by a provider that forgot the token is private: caught."""

    class Leaky(PluginRegistrationProvider):
        PRIVATE_KEYS = frozenset({"__provider"})

    plugin_id = new_plugin_id()
    ServiceRegistrationProvider(FAST).create(service_props(emulator, plugin_id, fake_plugin()))
    created = PluginRegistrationProvider(FAST).create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    leaked = Leaky(FAST).read(plugin_id, {**created.outs, "token": emulator.token}).outs
    assert _leaks(leaked, emulator.token) == [emulator.token]


def test_errors_do_not_quote_the_token(emulator: Emulator) -> None:
    props = {**plugin_props(emulator, new_plugin_id()), "token": SECRET}
    with pytest.raises(CoreApiAuthError) as failure:
        PluginRegistrationProvider(FAST).create(props)
    assert failure.value.status_code in (401, 403)
    assert _leaks([str(failure.value), repr(failure.value.__dict__)], SECRET) == []


def test_client_credentials_keep_the_secret_and_every_token_out_of_state_and_errors(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    assert emulator.client_secret is not None
    plugin_id = new_plugin_id()
    record, services, plugins = (
        PluginRecordProvider(FAST),
        ServiceRegistrationProvider(FAST),
        PluginRegistrationProvider(FAST),
    )
    for configurable in (record, services, plugins):
        configurable.configure(
            ConfigureRequest(Config({CLIENT_SECRET_CONFIG_KEY: emulator.client_secret}, "plexica-infra"))
        )
    props = plugin_props(emulator, plugin_id, auth="client-credentials")
    stored = [
        record.create(props).outs,
        services.create(service_props(emulator, plugin_id, fake_plugin(), auth="client-credentials")).outs,
    ]
    created = plugins.create(props)
    stored.append(created.outs)
    assert created.outs is not None and created.outs["state"] == "ACTIVE"
    outputs_only = {k: v for k, v in created.outs.items() if k not in ("token", "client_secret")}
    stored.append(plugins.read(plugin_id, {**outputs_only, "client_secret": emulator.client_secret}).outs)
    plugins.delete(plugin_id, outputs_only)  # the secret from configure(), as on destroy

    tokens = _live_tokens()
    assert tokens, "a token was fetched and cached"
    for outputs in stored:
        assert outputs is not None and "client_secret" not in outputs
        assert _leaks(outputs, emulator.client_secret, *tokens) == []
    for provider in (record, services, plugins):
        assert _leaks(_pickled(provider), emulator.client_secret, *tokens) == []

    wrong = {**props, "client_secret": "not-the-secret-" + SECRET}
    _auth.clear_token_cache()
    with pytest.raises(CoreApiAuthError) as failure:
        PluginRegistrationProvider(FAST).create(wrong)
    assert "answered 401: invalid_client" in str(failure.value)
    assert _leaks([str(failure.value), repr(failure.value.__dict__)], SECRET, emulator.client_secret, *tokens) == []


def test_resources_send_the_token_as_a_secret_and_keep_it_out_of_the_provider() -> None:
    def program() -> dict[str, Any]:
        service = ServiceRegistration(
            "crm-service",
            plugin_id="crm",
            service_name="plugin-crm",
            endpoints=["http://127.0.0.1:3100"],
            core_api_url="http://127.0.0.1:3000",
            token=SECRET,  # a plain string on purpose: the resource must make it secret
        )
        gate = HealthGate("crm-gate", plugin_id="crm", base_urls=["http://127.0.0.1:3100"], revision="r1")
        plugin = PluginRegistration(
            "crm",
            plugin_id="crm",
            manifest={"name": "CRM", "api": {"basePath": "/api/plugins/crm"}},
            version="1.0.0",
            core_api_url="http://127.0.0.1:3000",
            token=pulumi.Output.secret(SECRET),
            enabled=False,
            opts=pulumi.ResourceOptions(depends_on=[service, gate]),
        )
        return {"urns": [service.urn, gate.urn, plugin.urn]}

    run = run_program(program)
    plugin = run.one("pulumi-python:dynamic/plexica:PluginRegistration", "crm")
    service = run.one("pulumi-python:dynamic/plexica:ServiceRegistration", "crm-service")
    gate = run.one("pulumi-python:dynamic/plexica:HealthGate", "crm-gate")

    for registration in (plugin, service):
        assert is_secret_value(registration.inputs["token"])
        assert secret_payload(registration.inputs["token"]) == SECRET
        assert "token" in registration.additional_secret_outputs
    for registration in (plugin, service, gate):
        pickled = base64.b64decode(secret_payload(registration.inputs["__provider"]))
        assert SECRET.encode() not in pickled
    assert "token" not in gate.inputs
    assert plugin.inputs["enabled"] is False and plugin.inputs["version"] == "1.0.0"
    assert set(plugin.dependencies) >= {service.urn, gate.urn}
    assert gate.inputs["deadline_seconds"] == 180.0 and gate.inputs["revision"] == "r1"
    assert run.outputs["urns"][2] == plugin.urn


def test_the_client_secret_is_sent_as_a_secret_too() -> None:
    def program() -> dict[str, Any]:
        record = PluginRecord(
            "crm-record",
            plugin_id="plugin-crm",
            manifest={"name": "CRM"},
            version="1.0.0",
            core_api_url="https://core-api.example.com",
            dialect="plexica-v1",
            auth_mode="client-credentials",
            token_url="https://keycloak.example.com/realms/master/protocol/openid-connect/token",
            client_id="deployer",
            client_secret=SECRET,  # plain on purpose: the resource must make it secret
        )
        return {"urn": record.urn}

    run = run_program(program)
    record = run.one("pulumi-python:dynamic/plexica:PluginRecord", "crm-record")
    assert is_secret_value(record.inputs["client_secret"])
    assert secret_payload(record.inputs["client_secret"]) == SECRET
    assert "client_secret" in record.additional_secret_outputs
    assert record.inputs.get("token") is None
    pickled = base64.b64decode(secret_payload(record.inputs["__provider"]))
    assert SECRET.encode() not in pickled
