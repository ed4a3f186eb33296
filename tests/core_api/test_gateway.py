"""The gateway routes `/api/plugins/{id}/...` to the plugin only while it is ACTIVE."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests._emulator import Emulator, FakePlugin, manifest, unique_id

PLUGINS = "/api/v1/plugins"


def _route(emulator: Emulator, plugin_id: str, path: str = "health/live") -> httpx.Response:
    return httpx.get(f"{emulator.url}/api/plugins/{plugin_id}/{path}", timeout=30)


def test_routes_only_while_active(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin("crm")
    plugin_id = unique_id()
    seen: dict[str, int] = {}
    with emulator.client() as client:
        client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [plugin.url]},
        )
        seen["unregistered"] = _route(emulator, plugin_id).status_code
        client.post(PLUGINS, json=manifest(plugin_id))
        seen["REGISTERED"] = _route(emulator, plugin_id).status_code
        client.post(f"{PLUGINS}/{plugin_id}/install")
        seen["INSTALLED"] = _route(emulator, plugin_id).status_code
        client.post(f"{PLUGINS}/{plugin_id}/enable")
        active = _route(emulator, plugin_id, "hello/world?x=1")
        seen["ACTIVE"] = active.status_code
        client.post(f"{PLUGINS}/{plugin_id}/disable")
        disabled = _route(emulator, plugin_id)
        seen["DISABLED"] = disabled.status_code
        client.post(f"{PLUGINS}/{plugin_id}/enable")
        seen["ACTIVE again"] = _route(emulator, plugin_id).status_code
        client.post(f"{PLUGINS}/{plugin_id}/disable")
        client.delete(f"{PLUGINS}/{plugin_id}")
        seen["UNINSTALLED"] = _route(emulator, plugin_id).status_code
    assert seen == {
        "unregistered": 404,
        "REGISTERED": 404,
        "INSTALLED": 404,
        "ACTIVE": 200,
        "DISABLED": 404,
        "ACTIVE again": 200,
        "UNINSTALLED": 404,
    }
    assert active.json() == {"plugin": "crm", "method": "GET", "path": "/hello/world?x=1", "body": ""}
    # Without auth, a disabled plugin looks like no plugin at all (tests/core_api/test_gateway_security.py).
    assert disabled.json() == {"error": "not_found", "message": f"no route for /api/plugins/{plugin_id}/health/live"}


def _active_with(emulator: Emulator, *plugins: FakePlugin) -> str:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [p.url for p in plugins]},
        )
        client.post(PLUGINS, json=manifest(plugin_id))
        client.post(f"{PLUGINS}/{plugin_id}/install").raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/enable").raise_for_status()
    return plugin_id


def test_balances_across_instances_and_forwards_bodies(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    one, two = fake_plugin("one"), fake_plugin("two")
    plugin_id = _active_with(emulator, one, two)
    answered = [httpx.post(f"{emulator.url}/api/plugins/{plugin_id}/items", content=f"n={n}").json() for n in range(4)]
    assert sorted(a["plugin"] for a in answered) == ["one", "one", "two", "two"]
    assert [a["body"] for a in answered] == [f"n={n}" for n in range(4)]
    assert all(a["method"] == "POST" and a["path"] == "/items" for a in answered)


def test_an_instance_that_does_not_answer_is_a_json_502(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin = fake_plugin()
    plugin_id = _active_with(emulator, plugin)
    plugin.close()
    response = _route(emulator, plugin_id)
    assert response.status_code == 502
    assert response.json()["error"] == "bad_gateway"
    assert plugin_id in response.json()["message"]
    assert plugin.url not in response.text  # where a plugin runs is not the client's business
