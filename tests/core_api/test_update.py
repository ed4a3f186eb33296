"""The guide dialect's hot-swap update (`POST /api/v1/plugins/{id}/update`) over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

from tests._emulator import Emulator, FakePlugin, manifest, unique_id
from tests.core_api._guide import PLUGINS, active_plugin, error_body, register_service


def test_update_health_checks_then_switches_version_and_keeps_state(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    blue = fake_plugin("blue")
    with emulator.client() as client:
        plugin_id = active_plugin(client, blue)
        green = fake_plugin("green")
        register_service(client, plugin_id, green.url)  # the blue-green switch of the registry
        response = client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id, "1.1.0", extra=True))
        fetched = client.get(f"{PLUGINS}/{plugin_id}").json()
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == "1.1.0" and updated["previousVersion"] == "1.0.0"
    assert updated["state"] == "ACTIVE"
    assert fetched["manifest"]["extra"] is True
    assert green.ready.calls >= 1, "the update health-checked the newly registered endpoint"


def test_update_refused_when_the_new_endpoints_are_unhealthy(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin = fake_plugin()
    with emulator.client() as client:
        plugin_id = active_plugin(client, plugin)
        plugin.live.status = 500
        error = error_body(
            client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id, "2.0.0")), 424, "health_check_failed"
        )
        fetched = client.get(f"{PLUGINS}/{plugin_id}").json()
    assert fetched["version"] == "1.0.0" and fetched["state"] == "ACTIVE"
    assert error["currentState"] == "ACTIVE"
    assert "stays at version 1.0.0" in error["message"]
    assert fetched["lastError"] == error["message"]


def test_update_of_a_registered_plugin_swaps_the_manifest_without_probing(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post(PLUGINS, json=manifest(plugin_id))
        response = client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id, "1.0.1"))
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "1.0.1" and response.json()["state"] == "REGISTERED"


def test_update_is_idempotent(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    with emulator.client() as client:
        plugin_id = active_plugin(client, plugin)
        calls = plugin.live.calls
        again = client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id))
    assert again.status_code == 200 and again.json()["version"] == "1.0.0"
    assert plugin.live.calls == calls, "the same manifest again is a no-op"


def test_update_refusals(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    with emulator.client() as client:
        plugin_id = active_plugin(client, plugin)
        mismatch = error_body(client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest("other")), 400, "id_mismatch")
        client.post(f"{PLUGINS}/{plugin_id}/disable")
        client.delete(f"{PLUGINS}/{plugin_id}")
        gone = error_body(
            client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id, "9.0.0")), 409, "invalid_transition"
        )
    assert "other" in mismatch["message"]
    assert gone["currentState"] == "UNINSTALLED"
    assert "update is accepted in" in gone["message"]
