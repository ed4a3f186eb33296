"""The guide dialect's service registry over real HTTP: upsert, list, delete, validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests._emulator import Emulator, unique_id
from tests.core_api._guide import REGISTRY, error_body, register_service


def test_service_registry_upsert_is_idempotent(emulator: Emulator) -> None:
    plugin_id = unique_id()
    body = {"pluginId": plugin_id, "serviceName": "plugin-x", "endpoints": ["http://127.0.0.1:32770/"]}
    with emulator.client() as client:
        first = client.post(REGISTRY, json=body)
        second = client.post(REGISTRY, json=body)
        moved = client.post(REGISTRY, json={**body, "endpoints": ["http://127.0.0.1:1", "http://127.0.0.1:1"]})
        listed = client.get(f"{REGISTRY}/services", params={"pluginId": plugin_id}).json()["services"]
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["endpoints"] == ["http://127.0.0.1:32770"], "trailing slash dropped"
    assert second.json() == first.json(), "the same registration again changes nothing"
    assert moved.json()["endpoints"] == ["http://127.0.0.1:1"], "repeats dropped"
    assert listed == [moved.json()]


def test_service_registry_lists_every_plugin(emulator: Emulator) -> None:
    first, second = unique_id(), unique_id()
    with emulator.client() as client:
        for plugin_id in (first, second):
            register_service(client, plugin_id, "http://127.0.0.1:9")
        everything = {s["pluginId"] for s in client.get(f"{REGISTRY}/services").json()["services"]}
    assert {first, second} <= everything


def test_service_registry_delete_per_service_and_per_plugin(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        for name in ("api", "worker", "events"):
            client.post(
                REGISTRY, json={"pluginId": plugin_id, "serviceName": name, "endpoints": ["http://127.0.0.1:9"]}
            )
        one = client.delete(f"{REGISTRY}/{plugin_id}/worker")
        error_body(client.delete(f"{REGISTRY}/{plugin_id}/worker"), 404, "service_not_found")
        rest = client.delete(f"{REGISTRY}/{plugin_id}")
        error_body(client.delete(f"{REGISTRY}/{plugin_id}"), 404, "service_not_found")
        left = client.get(f"{REGISTRY}/services", params={"pluginId": plugin_id}).json()["services"]
    assert [s["serviceName"] for s in one.json()["removed"]] == ["worker"]
    assert sorted(s["serviceName"] for s in rest.json()["removed"]) == ["api", "events"]
    assert left == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"serviceName": "s", "endpoints": ["http://127.0.0.1:1"]}, "pluginId"),
        ({"pluginId": "p", "serviceName": "s", "endpoints": []}, "endpoints"),
        ({"pluginId": "p", "serviceName": "s", "endpoints": ["ftp://host"]}, "endpoints.0"),
        ({"pluginId": "p", "serviceName": "S S", "endpoints": ["http://h"]}, "serviceName"),
        ({"pluginId": "p", "serviceName": "s", "endpoints": ["http://h"], "extra": 1}, "extra"),
    ],
)
def test_service_registry_rejects_invalid_bodies(emulator: Emulator, body: dict[str, Any], field: str) -> None:
    with emulator.client() as client:
        error = error_body(client.post(REGISTRY, json=body), 400, "invalid_request")
    assert field in [detail["field"] for detail in error["details"]]
