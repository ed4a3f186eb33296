"""ServiceRegistrationProvider over real HTTP, including the blue-green switch of the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pulumi.runtime.rpc import UNKNOWN

from plexica_infra.providers import PluginRegistrationProvider, ServiceRegistrationProvider
from tests._emulator import Emulator, FakePlugin
from tests.providers._support import (
    FAST,
    new_plugin_id,
    plugin_props,
    register_service_by_hand,
    registry,
    service_props,
)


@pytest.fixture
def provider() -> ServiceRegistrationProvider:
    return ServiceRegistrationProvider(FAST)


def test_create_registers_and_is_idempotent(
    emulator: Emulator, provider: ServiceRegistrationProvider, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, one, two = new_plugin_id(), fake_plugin(), fake_plugin()
    props = service_props(emulator, plugin_id, one, two)

    first = provider.create(props)
    second = provider.create(props)

    assert first.id == second.id == f"{plugin_id}/plugin-{plugin_id}"
    assert first.outs is not None and second.outs is not None
    assert first.outs["endpoints"] == [one.url, two.url]
    assert "token" not in first.outs
    assert second.outs["created_at"] == first.outs["created_at"]
    assert first.outs["dialect"] == emulator.dialect
    assert [s["endpoints"] for s in registry(emulator, plugin_id)] == [[one.url, two.url]]


def test_update_re_registers_and_switches_the_gateway(
    emulator: Emulator, provider: ServiceRegistrationProvider, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, blue = new_plugin_id(), fake_plugin("blue")
    created = provider.create(service_props(emulator, plugin_id, blue))
    assert created.outs is not None
    PluginRegistrationProvider(FAST).create(plugin_props(emulator, plugin_id))
    route = f"{emulator.url}/api/plugins/{plugin_id}/whoami"
    assert httpx.get(route).json()["plugin"] == "blue"

    green = fake_plugin("green")
    news = service_props(emulator, plugin_id, green)
    assert provider.changed_keys(created.outs, news) == ["endpoints"]
    updated = provider.update(created.id, created.outs, news)

    assert updated.outs is not None and updated.outs["endpoints"] == [green.url]
    assert {httpx.get(route).json()["plugin"] for _ in range(3)} == {"green"}


def test_read_reports_endpoints_changed_by_hand(
    emulator: Emulator, provider: ServiceRegistrationProvider, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, plugin = new_plugin_id(), fake_plugin()
    props = service_props(emulator, plugin_id, plugin)
    created = provider.create(props)
    assert created.outs is not None
    register_service_by_hand(emulator, plugin_id, props["service_name"], ["http://127.0.0.1:9"])

    read = ServiceRegistrationProvider(FAST).read(created.id, {**created.outs, "token": emulator.token})

    assert read.id == created.id and read.outs is not None
    assert read.outs["endpoints"] == ["http://127.0.0.1:9"]
    assert provider.diff(created.id, read.outs, props).changes is True


def test_delete_removes_the_service_and_tolerates_it_gone(
    emulator: Emulator, provider: ServiceRegistrationProvider, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id = new_plugin_id()
    props = service_props(emulator, plugin_id, fake_plugin())
    other = service_props(emulator, plugin_id, fake_plugin(), name="events")
    created = provider.create(props)
    provider.create(other)

    provider.delete(created.id, props)
    provider.delete(created.id, props)

    assert [s["serviceName"] for s in registry(emulator, plugin_id)] == ["events"], "only its own service"
    assert provider.read(created.id, props).id == ""


OLDS: dict[str, Any] = {
    "plugin_id": "crm",
    "service_name": "plugin-crm",
    "endpoints": ["http://127.0.0.1:32770"],
    "core_api_url": "http://127.0.0.1:3000",
    "insecure_skip_tls_verify": False,
    "__provider": "x",
}


@pytest.mark.parametrize(
    ("change", "changed", "replaces"),
    [
        ({"endpoints": ["http://127.0.0.1:32770/", "http://127.0.0.1:32770"]}, [], []),
        ({"token": "rotated", "__provider": "y"}, [], []),
        ({"endpoints": ["http://127.0.0.1:32771"]}, ["endpoints"], []),
        ({"endpoints": UNKNOWN}, ["endpoints"], []),
        ({"service_name": "api"}, ["service_name"], ["service_name"]),
        ({"plugin_id": "crm2"}, ["plugin_id"], ["plugin_id"]),
        ({"core_api_url": "http://localhost:3000"}, ["core_api_url"], ["core_api_url"]),
    ],
)
def test_diff(change: dict[str, Any], changed: list[str], replaces: list[str]) -> None:
    provider = ServiceRegistrationProvider(FAST)
    news = {**OLDS, **change}
    assert provider.changed_keys(OLDS, news) == changed
    result = provider.diff("crm/plugin-crm", OLDS, news)
    assert result.changes is bool(changed)
    assert result.replaces == replaces
    assert result.delete_before_replace is ("core_api_url" in replaces)


def test_check_reports_bad_endpoints() -> None:
    result = ServiceRegistrationProvider(FAST).check({}, {**OLDS, "endpoints": ["tcp://x", "http://ok"]})
    assert [(f.property, f.reason) for f in result.failures] == [
        ("endpoints", "endpoint 'tcp://x' is not an http(s) URL such as 'http://127.0.0.1:3100'")
    ]
