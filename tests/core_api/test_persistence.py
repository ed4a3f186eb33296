"""State lives in SQLite at --db and survives restarts, clean or not."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests._emulator import Emulator, FakePlugin, manifest, unique_id

PLUGINS = "/api/v1/plugins"
POLL_TIMEOUT_SECONDS = 20.0


def _activate(emulator: Emulator, plugin: FakePlugin, plugin_id: str) -> None:
    with emulator.client() as client:
        client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [plugin.url]},
        ).raise_for_status()
        client.post(PLUGINS, json=manifest(plugin_id, "1.4.2", runtime={"type": "node"})).raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/install").raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/enable").raise_for_status()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_plugins_and_services_survive_a_restart(
    emulator_factory: Callable[..., Emulator], fake_plugin: Callable[..., FakePlugin], sig: int
) -> None:
    instance = emulator_factory()
    plugin = fake_plugin()
    active, disabled = unique_id(), unique_id()
    _activate(instance, plugin, active)
    _activate(instance, plugin, disabled)
    with instance.client() as client:
        client.post(f"{PLUGINS}/{disabled}/disable").raise_for_status()
        before = client.get(PLUGINS).json()
        services_before = client.get("/api/v1/service-registry/services").json()
    port = instance.port

    instance.restart(sig)

    assert instance.port == port
    with instance.client() as client:
        assert client.get(PLUGINS).json() == before
        assert client.get("/api/v1/service-registry/services").json() == services_before
    assert httpx.get(f"{instance.url}/api/plugins/{active}/health/live").status_code == 200
    assert httpx.get(f"{instance.url}/api/plugins/{disabled}/health/live").status_code == 404


def test_an_install_cut_short_by_a_crash_goes_back_to_registered(
    emulator_factory: Callable[..., Emulator], fake_plugin: Callable[..., FakePlugin]
) -> None:
    instance = emulator_factory()
    plugin = fake_plugin()
    plugin.live.delay_ms = 3000  # keeps the install in INSTALLING while we crash the Core API
    plugin_id = unique_id()
    with instance.client() as client:
        client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [plugin.url]},
        ).raise_for_status()
        client.post(PLUGINS, json=manifest(plugin_id)).raise_for_status()

    def install() -> None:
        try:
            with instance.client() as client:
                client.post(f"{PLUGINS}/{plugin_id}/install")
        except httpx.HTTPError:
            pass  # the Core API dies under this request

    installer = threading.Thread(target=install)
    installer.start()
    deadline = time.monotonic() + POLL_TIMEOUT_SECONDS
    with instance.client() as client:
        while client.get(f"{PLUGINS}/{plugin_id}").json()["state"] != "INSTALLING":
            assert time.monotonic() < deadline, "the install never reached INSTALLING"
            time.sleep(0.02)

    instance.restart(signal.SIGKILL)
    installer.join()

    with instance.client() as client:
        recovered = client.get(f"{PLUGINS}/{plugin_id}").json()
    assert recovered["state"] == "REGISTERED"
    assert recovered["lastError"] == "install interrupted by a Core API restart"
    assert f"{plugin_id}: INSTALLING -> REGISTERED (left over from a previous run)" in instance.log_text()
