"""No token and no secret string in what Pulumi stores: outputs, the pickled provider, errors."""

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
    TOKEN_CONFIG_KEY,
    CoreApiAuthError,
    HealthGate,
    HealthGateProvider,
    PluginRegistration,
    PluginRegistrationProvider,
    ServiceRegistration,
    ServiceRegistrationProvider,
)
from tests._emulator import Emulator, FakePlugin, unique_id
from tests.k8s._mocks import is_secret_value, run_program, secret_payload
from tests.providers._support import FAST, plugin_props, service_props

SECRET = "s3cret-token-never-stored"


def _flat(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _pickled(provider: Any) -> bytes:
    return base64.b64decode(serialize_provider(provider))


def test_outputs_and_pickled_providers_hold_no_token(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, plugin = unique_id(), fake_plugin()
    services, plugins = ServiceRegistrationProvider(FAST), PluginRegistrationProvider(FAST)
    gate = HealthGateProvider()
    for configurable in (services, plugins):
        configurable.configure(ConfigureRequest(Config({TOKEN_CONFIG_KEY: emulator.token}, "plexica-infra")))

    stored = [
        gate.create({"plugin_id": plugin_id, "base_urls": [plugin.url], "start_period_seconds": 0}).outs,
        services.create(service_props(emulator, plugin_id, plugin)).outs,
    ]
    created = plugins.create(plugin_props(emulator, plugin_id))
    stored.append(created.outs)
    assert created.outs is not None
    stored.append(plugins.update(plugin_id, created.outs, plugin_props(emulator, plugin_id, enabled=False)).outs)
    stored.append(plugins.read(plugin_id, created.outs).outs)

    for outputs in stored:
        assert outputs is not None and "token" not in outputs
        assert emulator.token not in _flat(outputs)
    for provider in (services, plugins, gate):
        blob = _pickled(provider)
        assert emulator.token.encode() not in blob
        restored = dill.loads(blob)
        assert type(restored) is type(provider)
        assert getattr(restored, "_configured_token", None) is None
    assert plugins._configured_token == emulator.token, "configure() did work; it just never pickles"


def test_errors_do_not_quote_the_token(emulator: Emulator) -> None:
    props = {**plugin_props(emulator, unique_id()), "token": SECRET}
    with pytest.raises(CoreApiAuthError) as failure:
        PluginRegistrationProvider(FAST).create(props)
    assert failure.value.status_code == 403
    assert SECRET not in str(failure.value) and SECRET not in repr(failure.value.__dict__)


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
