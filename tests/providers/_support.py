"""Helpers for the provider tests: small retry budgets, props builders, direct Core API reads."""

from __future__ import annotations

from typing import Any

from plexica_infra.providers import TransportSettings
from tests._emulator import Emulator, FakePlugin

#: Retry budgets small enough for tests, still with every mechanism in play.
FAST = TransportSettings(
    connect_timeout=2.0,
    read_timeout=10.0,
    lifecycle_read_timeout=30.0,
    max_attempts=4,
    max_elapsed=10.0,
    initial_backoff=0.05,
    max_backoff=0.2,
    settle_timeout=15.0,
)


def plugin_props(
    emulator: Emulator, plugin_id: str, *, version: str = "1.0.0", enabled: bool = True, **manifest: Any
) -> dict[str, Any]:
    """PluginRegistration inputs as the engine hands them to the provider."""
    return {
        "plugin_id": plugin_id,
        "manifest": {"name": f"{plugin_id} plugin", "api": {"basePath": f"/api/plugins/{plugin_id}"}, **manifest},
        "version": version,
        "core_api_url": emulator.url,
        "token": emulator.token,
        "enabled": enabled,
        "insecure_skip_tls_verify": False,
    }


def service_props(emulator: Emulator, plugin_id: str, *plugins: FakePlugin, name: str = "") -> dict[str, Any]:
    return {
        "plugin_id": plugin_id,
        "service_name": name or f"plugin-{plugin_id}",
        "endpoints": [plugin.url for plugin in plugins],
        "core_api_url": emulator.url,
        "token": emulator.token,
        "insecure_skip_tls_verify": False,
    }


def core_api_plugin(emulator: Emulator, plugin_id: str) -> dict[str, Any] | None:
    """The plugin as the Core API holds it, read directly (not through the providers)."""
    with emulator.client() as client:
        response = client.get(f"/api/v1/plugins/{plugin_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def walk(emulator: Emulator, plugin_id: str, *steps: str) -> str:
    """Take lifecycle steps by hand ("install", "enable", "disable", "uninstall"); returns the state."""
    with emulator.client() as client:
        state = ""
        for step in steps:
            if step == "uninstall":
                response = client.delete(f"/api/v1/plugins/{plugin_id}")
            else:
                response = client.post(f"/api/v1/plugins/{plugin_id}/{step}")
            response.raise_for_status()
            state = response.json()["state"]
    return state
