"""Helpers for the provider tests: small retry budgets, props builders, direct Core API reads.

The direct reads and writes ("by hand") speak the emulator's own dialect, so a test
can set up or check a state without going through the code under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from plexica_infra.providers import (
    TOKEN_CONFIG_KEY,
    PluginRegistrationProvider,
    ServiceRegistrationProvider,
    TransportSettings,
)
from tests._emulator import TEST_CLIENT_ID, Emulator, FakePlugin

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


def new_plugin_id() -> str:
    """A fresh plugin id both dialects accept (the real Core API wants `plugin-<name>`)."""
    return f"plugin-{uuid.uuid4().hex[:10]}"


def removed_state(emulator: Emulator) -> str:
    """Where an uninstall leaves a plugin: UNINSTALLED (guide), REGISTERED (plexica-v1)."""
    return "REGISTERED" if emulator.v1 else "UNINSTALLED"


def sample_manifest(emulator: Emulator, plugin_id: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A manifest the emulator's dialect accepts (the real schema is strict and asks for more)."""
    if emulator.v1:
        base: dict[str, Any] = {
            "name": f"{plugin_id} plugin",
            "description": "A plugin the provider tests deploy.",
            "category": "testing",
            "metadata": {"license": "MIT", "author": {"name": "plexica-infra tests"}},
        }
    else:
        base = {"name": f"{plugin_id} plugin", "api": {"basePath": f"/api/plugins/{plugin_id}"}}
    return {**base, **extra}


def target_props(emulator: Emulator, *, auth: str = "static") -> dict[str, Any]:
    """The connection inputs every Core API resource takes."""
    props: dict[str, Any] = {
        "core_api_url": emulator.url,
        "token": emulator.token,
        "insecure_skip_tls_verify": False,
        "dialect": emulator.dialect,
    }
    if auth == "client-credentials":
        props = {
            **props,
            "token": None,
            "auth_mode": "client-credentials",
            "token_url": emulator.token_url,
            "client_id": TEST_CLIENT_ID,
            "client_secret": emulator.client_secret,
        }
    return props


def plugin_props(
    emulator: Emulator,
    plugin_id: str,
    *,
    version: str = "1.0.0",
    enabled: bool = True,
    auth: str = "static",
    **manifest: Any,
) -> dict[str, Any]:
    """PluginRegistration inputs as the engine hands them to the provider."""
    return {
        "plugin_id": plugin_id,
        "manifest": sample_manifest(emulator, plugin_id, **manifest),
        "version": version,
        "enabled": enabled,
        **target_props(emulator, auth=auth),
    }


def service_props(
    emulator: Emulator, plugin_id: str, *plugins: FakePlugin, name: str = "", auth: str = "static"
) -> dict[str, Any]:
    return {
        "plugin_id": plugin_id,
        "service_name": name or f"plugin-{plugin_id}",
        "endpoints": [plugin.url for plugin in plugins],
        "version": "1.0.0",
        **target_props(emulator, auth=auth),
    }


def register_by_hand(emulator: Emulator, plugin_id: str, version: str = "1.0.0") -> None:
    body = {**sample_manifest(emulator, plugin_id), "id": plugin_id, "version": version}
    with emulator.client() as client:
        client.post("/api/v1/plugins", json=body).raise_for_status()


def core_api_plugin(emulator: Emulator, plugin_id: str) -> dict[str, Any] | None:
    """The plugin as the Core API holds it, read directly; `state` in both dialects."""
    with emulator.client() as client:
        if emulator.v1:
            listing = client.get("/api/v1/plugins", params={"limit": "100"})
            listing.raise_for_status()
            for row in listing.json()["plugins"]:
                if row["id"] == plugin_id:
                    return {**row, "state": row["lifecycleStatus"]}
            return None
        response = client.get(f"/api/v1/plugins/{plugin_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def walk(emulator: Emulator, plugin_id: str, *steps: str) -> str:
    """Take lifecycle steps by hand ("install", "enable", "disable", "uninstall"); returns the state."""
    with emulator.client() as client:
        for step in steps:
            if step == "uninstall":
                response = client.delete(f"/api/v1/plugins/{plugin_id}")
            else:
                response = client.post(f"/api/v1/plugins/{plugin_id}/{step}")
            response.raise_for_status()
    held = core_api_plugin(emulator, plugin_id)
    return str(held["state"]) if held else ""


def registry(emulator: Emulator, plugin_id: str) -> list[dict[str, Any]]:
    """The plugin's services as `{"serviceName", "endpoints"}`, read directly."""
    with emulator.client() as client:
        if emulator.v1:
            response = client.get(
                "/api/plugin-gateway/services", params={"pluginId": plugin_id}, headers={"X-Tenant-Slug": "global"}
            )
            response.raise_for_status()
            return [
                {"serviceName": s["serviceName"], "endpoints": s["metadata"].get("instances", [s["baseUrl"]])}
                for s in response.json()["services"]
            ]
        response = client.get("/api/v1/service-registry/services", params={"pluginId": plugin_id})
        response.raise_for_status()
        return [{"serviceName": s["serviceName"], "endpoints": s["endpoints"]} for s in response.json()["services"]]


def register_service_by_hand(emulator: Emulator, plugin_id: str, service_name: str, endpoints: list[str]) -> None:
    with emulator.client() as client:
        if emulator.v1:
            client.post(
                "/api/plugin-gateway/services/register",
                json={
                    "pluginId": plugin_id,
                    "serviceName": service_name,
                    "version": "1.0.0",
                    "baseUrl": endpoints[0],
                    "metadata": {"instances": endpoints},
                },
                headers={"X-Tenant-Slug": "global"},
            ).raise_for_status()
        else:
            client.post(
                "/api/v1/service-registry",
                json={"pluginId": plugin_id, "serviceName": service_name, "endpoints": endpoints},
            ).raise_for_status()


def served_plugins(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> Callable[[], tuple[str, FakePlugin]]:
    """Makes fresh plugin ids, each with a healthy endpoint in the service registry."""

    def make() -> tuple[str, FakePlugin]:
        plugin_id, plugin = new_plugin_id(), fake_plugin()
        ServiceRegistrationProvider(FAST).create(service_props(emulator, plugin_id, plugin))
        return plugin_id, plugin

    return make


def configured_registrations(token: str) -> PluginRegistrationProvider:
    """A PluginRegistrationProvider with the token from the stack config, as `read` and `delete` get it."""
    provider = PluginRegistrationProvider(FAST)
    provider.configure(ConfigureRequest(Config({TOKEN_CONFIG_KEY: token}, "plexica-infra")))
    return provider


def left_by_a_previous_run(emulator: Emulator, plugin_id: str, *steps: str) -> dict[str, Any]:
    """The plugin registered by hand and walked through `steps`; returns its registration props."""
    register_by_hand(emulator, plugin_id)
    walk(emulator, plugin_id, *steps)
    return plugin_props(emulator, plugin_id)
