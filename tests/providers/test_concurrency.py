"""Many plugins at once: Pulumi runs independent resources in parallel."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from plexica_infra.providers import PluginRegistrationProvider, ServiceRegistrationProvider
from tests._emulator import Emulator, FakePlugin
from tests.providers._support import FAST, core_api_plugin, new_plugin_id, plugin_props, registry, service_props

PLUGINS = 20


def test_twenty_plugins_register_concurrently(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    instance = fake_plugin()
    ids = [new_plugin_id() for _ in range(PLUGINS)]
    services, plugins = ServiceRegistrationProvider(FAST), PluginRegistrationProvider(FAST)

    def deploy(plugin_id: str) -> str:
        services.create(service_props(emulator, plugin_id, instance))
        result = plugins.create(plugin_props(emulator, plugin_id, enabled=plugin_id != ids[0]))
        assert result.outs is not None
        return str(result.outs["state"])

    with ThreadPoolExecutor(max_workers=PLUGINS) as pool:
        states = list(pool.map(deploy, ids, timeout=120))

    assert states == ["DISABLED"] + ["ACTIVE"] * (PLUGINS - 1)
    held = {plugin_id: core_api_plugin(emulator, plugin_id) for plugin_id in ids}
    assert all(plugin is not None for plugin in held.values())
    assert sorted(plugin["state"] for plugin in held.values() if plugin) == ["ACTIVE"] * (PLUGINS - 1) + ["DISABLED"]
    assert all(registry(emulator, plugin_id) for plugin_id in ids)


def test_concurrent_creates_of_the_same_plugin_converge(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    """Racing runs meet each other's INSTALLING, 409s and retries, and all end ACTIVE."""
    plugin = fake_plugin()
    plugin.live.delay_ms = 50  # widen the INSTALLING window
    plugin_id = new_plugin_id()
    ServiceRegistrationProvider(FAST).create(service_props(emulator, plugin_id, plugin))
    provider = PluginRegistrationProvider(FAST)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: provider.create(plugin_props(emulator, plugin_id)), range(4), timeout=120))

    assert {result.outs["state"] for result in results if result.outs} == {"ACTIVE"}
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == "ACTIVE"
