"""The guide dialect's plugin routes over real HTTP: register, list, read, the lifecycle walk, install."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests._emulator import Emulator, FakePlugin, manifest, unique_id
from tests.core_api._guide import PLUGINS, error_body, register_service


def test_register_returns_the_plugin_registered(emulator: Emulator) -> None:
    plugin_id = unique_id()
    body = manifest(plugin_id, "1.2.0", runtime={"type": "node"}, custom=[1, 2])
    with emulator.client() as client:
        response = client.post(PLUGINS, json=body)
        fetched = client.get(f"{PLUGINS}/{plugin_id}").json()
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == plugin_id
    assert created["name"] == body["name"]
    assert created["version"] == "1.2.0"
    assert created["state"] == "REGISTERED"
    assert created["manifest"] == body
    assert created["createdAt"].endswith("Z") and created["updatedAt"] and created["stateChangedAt"]
    assert created["lastError"] is None
    assert fetched == created


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "version": "1.0.0"}, "id"),
        ({"id": "Bad_Id", "name": "x", "version": "1.0.0"}, "id"),
        ({"id": "ok", "version": "1.0.0"}, "name"),
        ({"id": "ok", "name": "x", "version": "one"}, "version"),
        ({"id": "ok", "name": "x", "version": "1.0.0", "api": {"liveness": "no-slash"}}, "api.liveness"),
    ],
)
def test_register_rejects_an_invalid_manifest(emulator: Emulator, body: dict[str, Any], field: str) -> None:
    with emulator.client() as client:
        error = error_body(client.post(PLUGINS, json=body), 400, "invalid_request")
    assert field in [detail["field"] for detail in error["details"]]
    assert "invalid plugin manifest" in error["message"]


def test_register_rejects_a_body_that_is_not_json_or_not_an_object(emulator: Emulator) -> None:
    with emulator.client() as client:
        error_body(client.post(PLUGINS, content=b"{not json"), 400, "invalid_json")
        error_body(client.post(PLUGINS, json=["a", "list"]), 400, "invalid_request")


def test_register_twice_is_409_naming_the_state(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post(PLUGINS, json=manifest(plugin_id))
        error = error_body(client.post(PLUGINS, json=manifest(plugin_id, "2.0.0")), 409, "plugin_exists")
        assert client.get(f"{PLUGINS}/{plugin_id}").json()["version"] == "1.0.0"
    assert error["currentState"] == "REGISTERED"
    assert error["allowedTransitions"][0]["action"] == "install"


def test_list_plugins_and_filter_by_state(emulator: Emulator) -> None:
    first, second = unique_id(), unique_id()
    with emulator.client() as client:
        client.post(PLUGINS, json=manifest(first))
        client.post(PLUGINS, json=manifest(second))
        everything = {p["id"] for p in client.get(PLUGINS).json()["plugins"]}
        registered = {p["id"] for p in client.get(PLUGINS, params={"state": "REGISTERED"}).json()["plugins"]}
        active = {p["id"] for p in client.get(PLUGINS, params={"state": "active"}).json()["plugins"]}
        error_body(client.get(PLUGINS, params={"state": "SLEEPING"}), 400, "invalid_request")
    assert {first, second} <= everything
    assert {first, second} <= registered
    assert not {first, second} & active


def test_unknown_plugin_is_404_on_every_plugin_route(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/install"), ("POST", "/enable")]:
            error = error_body(client.request(method, f"{PLUGINS}/{plugin_id}{suffix}"), 404, "plugin_not_found")
            assert error["pluginId"] == plugin_id
        error_body(client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id)), 404, "plugin_not_found")


def test_full_lifecycle_walk(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin_id = unique_id()
    with emulator.client() as client:
        register_service(client, plugin_id, plugin.url)
        states = [client.post(PLUGINS, json=manifest(plugin_id)).json()["state"]]
        for method, suffix in [
            ("POST", "/install"),
            ("POST", "/enable"),
            ("POST", "/disable"),
            ("POST", "/enable"),
            ("POST", "/disable"),
            ("DELETE", ""),
        ]:
            response = client.request(method, f"{PLUGINS}/{plugin_id}{suffix}")
            assert response.status_code == 200, response.text
            states.append(response.json()["state"])
        again = client.post(PLUGINS, json=manifest(plugin_id, "2.0.0"))
    assert states == ["REGISTERED", "INSTALLED", "ACTIVE", "DISABLED", "ACTIVE", "DISABLED", "UNINSTALLED"]
    assert again.status_code == 201, "re-registering an UNINSTALLED plugin is allowed"
    assert again.json()["state"] == "REGISTERED"
    assert again.json()["version"] == "2.0.0"
    assert ("GET", "/health/live") in plugin.requests and ("GET", "/health/ready") in plugin.requests


@pytest.mark.parametrize(
    ("walk", "request_", "state", "allowed"),
    [
        ([], ("POST", "/enable"), "REGISTERED", ["install"]),
        ([], ("DELETE", ""), "REGISTERED", ["install"]),
        (["/install"], ("POST", "/disable"), "INSTALLED", ["enable"]),
        (["/install"], ("POST", "/install"), "INSTALLED", ["enable"]),
        (["/install", "/enable"], ("DELETE", ""), "ACTIVE", ["disable"]),
        (["/install", "/enable"], ("POST", "/enable"), "ACTIVE", ["disable"]),
        (["/install", "/enable", "/disable"], ("POST", "/disable"), "DISABLED", ["enable", "uninstall"]),
    ],
)
def test_invalid_transition_is_409_with_state_and_allowed(
    emulator: Emulator,
    fake_plugin: Callable[..., FakePlugin],
    walk: list[str],
    request_: tuple[str, str],
    state: str,
    allowed: list[str],
) -> None:
    plugin = fake_plugin()
    plugin_id = unique_id()
    with emulator.client() as client:
        register_service(client, plugin_id, plugin.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        for suffix in walk:
            assert client.post(f"{PLUGINS}/{plugin_id}{suffix}").status_code == 200
        method, suffix = request_
        error = error_body(client.request(method, f"{PLUGINS}/{plugin_id}{suffix}"), 409, "invalid_transition")
        assert client.get(f"{PLUGINS}/{plugin_id}").json()["state"] == state, "a refused request changes nothing"
    assert error["currentState"] == state
    assert [item["action"] for item in error["allowedTransitions"]] == allowed
    first = error["allowedTransitions"][0]
    assert first["path"].startswith(PLUGINS) and first["method"] in ("POST", "DELETE") and first["to"]
    assert state in error["message"] and allowed[0] in error["message"]


def test_install_without_endpoints_fails_back_to_registered(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post(PLUGINS, json=manifest(plugin_id))
        error = error_body(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "no_endpoints")
        plugin = client.get(f"{PLUGINS}/{plugin_id}").json()
    assert error["currentState"] == "REGISTERED"
    assert "service registry" in error["message"]
    assert plugin["state"] == "REGISTERED"
    assert plugin["lastError"] == error["message"]


def test_install_health_failure_names_the_endpoint_and_its_answer(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    healthy, unready = fake_plugin("healthy"), fake_plugin("unready")
    unready.ready.status = 503
    plugin_id = unique_id()
    with emulator.client() as client:
        register_service(client, plugin_id, healthy.url, unready.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        error = error_body(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "health_check_failed")
        state = client.get(f"{PLUGINS}/{plugin_id}").json()["state"]
    assert state == "REGISTERED"
    assert error["currentState"] == "REGISTERED"
    assert f"{unready.url}/health/ready answered 503" in error["message"]
    assert '"not_ready"' in error["message"], "the plugin's own answer is quoted"
    assert healthy.url not in error["message"].split("failed:")[1], "only failing endpoints are blamed"
    by_url = {check["url"]: check for check in error["checks"]}
    assert by_url[f"{unready.url}/health/ready"]["status"] == 503
    assert by_url[f"{unready.url}/health/ready"]["attempts"] == 3
    assert by_url[f"{healthy.url}/health/ready"]["status"] == 200


def test_install_reports_an_unreachable_endpoint(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    gone = fake_plugin()
    gone.close()
    plugin_id = unique_id()
    with emulator.client() as client:
        register_service(client, plugin_id, gone.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        error = error_body(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "health_check_failed")
    assert f"{gone.url}/health/live did not answer (ConnectError" in error["message"]


def test_install_uses_the_manifests_probe_paths(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin(live_path="/probes/alive", ready_path="/probes/serving")
    plugin_id = unique_id()
    body = manifest(plugin_id, api={"liveness": "/probes/alive", "readiness": "/probes/serving"})
    with emulator.client() as client:
        register_service(client, plugin_id, plugin.url)
        client.post(PLUGINS, json=body)
        installed = client.post(f"{PLUGINS}/{plugin_id}/install")
    assert installed.json()["state"] == "INSTALLED", installed.text
    assert ("GET", "/probes/alive") in plugin.requests and ("GET", "/probes/serving") in plugin.requests
    assert ("GET", "/health/live") not in plugin.requests


def test_install_retries_a_probe_before_failing(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin.ready.fail_first = 2  # the third of three attempts answers 200
    plugin_id = unique_id()
    with emulator.client() as client:
        register_service(client, plugin_id, plugin.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        assert client.post(f"{PLUGINS}/{plugin_id}/install").json()["state"] == "INSTALLED"
    assert plugin.ready.calls == 3
