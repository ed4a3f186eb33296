"""The emulator's HTTP contract, endpoint by endpoint, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests._emulator import Emulator, FakePlugin, manifest, unique_id

PLUGINS = "/api/v1/plugins"
REGISTRY = "/api/v1/service-registry"


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def _register_service(client: httpx.Client, plugin_id: str, *endpoints: str) -> None:
    response = client.post(
        REGISTRY, json={"pluginId": plugin_id, "serviceName": f"plugin-{plugin_id}", "endpoints": list(endpoints)}
    )
    assert response.status_code in (200, 201), response.text


def _active(client: httpx.Client, plugin: FakePlugin, plugin_id: str | None = None) -> str:
    plugin_id = plugin_id or unique_id()
    _register_service(client, plugin_id, plugin.url)
    assert client.post(PLUGINS, json=manifest(plugin_id)).status_code == 201
    assert client.post(f"{PLUGINS}/{plugin_id}/install").json()["state"] == "INSTALLED"
    assert client.post(f"{PLUGINS}/{plugin_id}/enable").json()["state"] == "ACTIVE"
    return plugin_id


# Plugins ----------------------------------------------------------------------------------------


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
        error = _error(client.post(PLUGINS, json=body), 400, "invalid_request")
    assert field in [detail["field"] for detail in error["details"]]
    assert "invalid plugin manifest" in error["message"]


def test_register_rejects_a_body_that_is_not_json_or_not_an_object(emulator: Emulator) -> None:
    with emulator.client() as client:
        _error(client.post(PLUGINS, content=b"{not json"), 400, "invalid_json")
        _error(client.post(PLUGINS, json=["a", "list"]), 400, "invalid_request")


def test_register_twice_is_409_naming_the_state(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post(PLUGINS, json=manifest(plugin_id))
        error = _error(client.post(PLUGINS, json=manifest(plugin_id, "2.0.0")), 409, "plugin_exists")
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
        _error(client.get(PLUGINS, params={"state": "SLEEPING"}), 400, "invalid_request")
    assert {first, second} <= everything
    assert {first, second} <= registered
    assert not {first, second} & active


def test_unknown_plugin_is_404_on_every_plugin_route(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/install"), ("POST", "/enable")]:
            error = _error(client.request(method, f"{PLUGINS}/{plugin_id}{suffix}"), 404, "plugin_not_found")
            assert error["pluginId"] == plugin_id
        _error(client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id)), 404, "plugin_not_found")


def test_full_lifecycle_walk(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin_id = unique_id()
    with emulator.client() as client:
        _register_service(client, plugin_id, plugin.url)
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
        _register_service(client, plugin_id, plugin.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        for suffix in walk:
            assert client.post(f"{PLUGINS}/{plugin_id}{suffix}").status_code == 200
        method, suffix = request_
        error = _error(client.request(method, f"{PLUGINS}/{plugin_id}{suffix}"), 409, "invalid_transition")
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
        error = _error(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "no_endpoints")
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
        _register_service(client, plugin_id, healthy.url, unready.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        error = _error(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "health_check_failed")
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
        _register_service(client, plugin_id, gone.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        error = _error(client.post(f"{PLUGINS}/{plugin_id}/install"), 424, "health_check_failed")
    assert f"{gone.url}/health/live did not answer (ConnectError" in error["message"]


def test_install_uses_the_manifests_probe_paths(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin(live_path="/probes/alive", ready_path="/probes/serving")
    plugin_id = unique_id()
    body = manifest(plugin_id, api={"liveness": "/probes/alive", "readiness": "/probes/serving"})
    with emulator.client() as client:
        _register_service(client, plugin_id, plugin.url)
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
        _register_service(client, plugin_id, plugin.url)
        client.post(PLUGINS, json=manifest(plugin_id))
        assert client.post(f"{PLUGINS}/{plugin_id}/install").json()["state"] == "INSTALLED"
    assert plugin.ready.calls == 3


# Hot-swap update ----------------------------------------------------------------------------------


def test_update_health_checks_then_switches_version_and_keeps_state(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    blue = fake_plugin("blue")
    with emulator.client() as client:
        plugin_id = _active(client, blue)
        green = fake_plugin("green")
        _register_service(client, plugin_id, green.url)  # the blue-green switch of the registry
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
        plugin_id = _active(client, plugin)
        plugin.live.status = 500
        error = _error(
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
        plugin_id = _active(client, plugin)
        calls = plugin.live.calls
        again = client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id))
    assert again.status_code == 200 and again.json()["version"] == "1.0.0"
    assert plugin.live.calls == calls, "the same manifest again is a no-op"


def test_update_refusals(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    with emulator.client() as client:
        plugin_id = _active(client, plugin)
        mismatch = _error(client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest("other")), 400, "id_mismatch")
        client.post(f"{PLUGINS}/{plugin_id}/disable")
        client.delete(f"{PLUGINS}/{plugin_id}")
        gone = _error(
            client.post(f"{PLUGINS}/{plugin_id}/update", json=manifest(plugin_id, "9.0.0")), 409, "invalid_transition"
        )
    assert "other" in mismatch["message"]
    assert gone["currentState"] == "UNINSTALLED"
    assert "update is accepted in" in gone["message"]


# Service registry ---------------------------------------------------------------------------------


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
            _register_service(client, plugin_id, "http://127.0.0.1:9")
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
        _error(client.delete(f"{REGISTRY}/{plugin_id}/worker"), 404, "service_not_found")
        rest = client.delete(f"{REGISTRY}/{plugin_id}")
        _error(client.delete(f"{REGISTRY}/{plugin_id}"), 404, "service_not_found")
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
        error = _error(client.post(REGISTRY, json=body), 400, "invalid_request")
    assert field in [detail["field"] for detail in error["details"]]


# Auth and errors ------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("GET", PLUGINS),
    ("POST", PLUGINS),
    ("GET", f"{PLUGINS}/crm"),
    ("DELETE", f"{PLUGINS}/crm"),
    ("POST", f"{PLUGINS}/crm/install"),
    ("POST", f"{PLUGINS}/crm/enable"),
    ("POST", f"{PLUGINS}/crm/disable"),
    ("POST", f"{PLUGINS}/crm/update"),
    ("POST", REGISTRY),
    ("GET", f"{REGISTRY}/services"),
    ("DELETE", f"{REGISTRY}/crm"),
    ("DELETE", f"{REGISTRY}/crm/plugin-crm"),
    ("GET", "/_emulator/faults"),
    ("POST", "/_emulator/faults"),
    ("DELETE", "/_emulator/faults"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_need_the_bearer_token(emulator: Emulator, method: str, path: str) -> None:
    with emulator.client(token="") as anonymous:
        missing = _error(anonymous.request(method, path), 401, "unauthorized")
        basic = _error(anonymous.request(method, path, headers={"Authorization": "Basic abc"}), 401, "unauthorized")
        unauthenticated = anonymous.request(method, path)
    with emulator.client(token=emulator.token + "x") as wrong:
        forbidden = _error(wrong.request(method, path), 403, "forbidden")
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    for body in (missing, basic, forbidden):
        assert emulator.token not in str(body)


def test_the_health_route_and_the_gateway_need_no_token(emulator: Emulator) -> None:
    assert httpx.get(f"{emulator.url}/_emulator/health").json() == {"status": "ok"}
    response = httpx.get(f"{emulator.url}/api/plugins/{unique_id()}/health/live")
    _error(response, 404, "not_found")


def test_unknown_route_and_wrong_method_answer_json(emulator: Emulator) -> None:
    with emulator.client() as client:
        _error(client.get("/api/v2/nothing"), 404, "not_found")
        _error(client.put(PLUGINS), 405, "method_not_allowed")
