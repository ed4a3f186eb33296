"""Helpers of the guide dialect's contract tests (`test_plugins`, `test_update`, `test_registry`, `test_auth`)."""

from __future__ import annotations

from typing import Any

import httpx

from tests._emulator import FakePlugin, manifest, unique_id

PLUGINS = "/api/v1/plugins"
REGISTRY = "/api/v1/service-registry"


def error_body(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def register_service(client: httpx.Client, plugin_id: str, *endpoints: str) -> None:
    response = client.post(
        REGISTRY, json={"pluginId": plugin_id, "serviceName": f"plugin-{plugin_id}", "endpoints": list(endpoints)}
    )
    assert response.status_code in (200, 201), response.text


def active_plugin(client: httpx.Client, plugin: FakePlugin, plugin_id: str | None = None) -> str:
    plugin_id = plugin_id or unique_id()
    register_service(client, plugin_id, plugin.url)
    assert client.post(PLUGINS, json=manifest(plugin_id)).status_code == 201
    assert client.post(f"{PLUGINS}/{plugin_id}/install").json()["state"] == "INSTALLED"
    assert client.post(f"{PLUGINS}/{plugin_id}/enable").json()["state"] == "ACTIVE"
    return plugin_id
