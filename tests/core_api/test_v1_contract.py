"""The emulator's plexica-v1 dialect behaves as the real `apps/core-api` does, over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plexica_infra.contract import PLEXICA_V1_LIFECYCLE, LifecycleAction, LifecycleState
from tests._emulator import TEST_CLIENT_ID, Emulator

PLUGINS = "/api/v1/plugins"
SERVICES = "/api/plugin-gateway/services"
TENANT = {"X-Tenant-Slug": "global"}
S = LifecycleState


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    from tests._emulator import new_token, start_emulator

    emulator = start_emulator(
        tmp_path_factory.mktemp("v1") / "core-api.db", new_token(), dialect="plexica-v1", client_secret="c-secret"
    )
    yield emulator
    emulator.stop()


def _manifest(plugin_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": plugin_id,
        "name": "Contract plugin",
        "version": "1.0.0",
        "description": "A plugin for the contract tests.",
        "category": "testing",
        "metadata": {"license": "MIT", "author": {"name": "tests"}},
        **extra,
    }


def _new_id() -> str:
    return f"plugin-{uuid.uuid4().hex[:8]}"


def _code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error, dict) and error["message"]
    return str(error["code"])


def _state(client: httpx.Client, plugin_id: str) -> str:
    rows = client.get(PLUGINS, params={"limit": "100"}).json()["plugins"]
    return str(next(row["lifecycleStatus"] for row in rows if row["id"] == plugin_id))


def test_register_is_strict_and_a_duplicate_is_a_400(v1: Emulator) -> None:
    plugin_id = _new_id()
    with v1.client() as client:
        created = client.post(PLUGINS, json=_manifest(plugin_id))
        assert created.status_code == 201 and created.json()["lifecycleStatus"] == "REGISTERED"
        assert _code(client.post(PLUGINS, json=_manifest(plugin_id)), 400) == "REGISTRATION_FAILED"
        refused = client.post(PLUGINS, json=_manifest(_new_id(), runtime={"image": "x:1"}))
        assert _code(refused, 400) == "INVALID_MANIFEST" and "runtime" in refused.json()["error"]["message"]
        assert _code(client.post(PLUGINS, json=_manifest("crm")), 400) == "INVALID_MANIFEST"


def test_there_is_no_get_by_id_route(v1: Emulator) -> None:
    with v1.client() as client:
        response = client.get(f"{PLUGINS}/plugin-anything")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Route GET:/api/v1/plugins/plugin-anything not found",
        "error": "Not Found",
        "statusCode": 404,
    }


def test_the_lifecycle_and_its_already_answers(v1: Emulator) -> None:
    plugin_id = _new_id()
    with v1.client() as client:
        client.post(PLUGINS, json=_manifest(plugin_id)).raise_for_status()
        install = client.post(f"{PLUGINS}/{plugin_id}/install")
        assert install.status_code == 201 and install.json()["plugin"]["lifecycleStatus"] == "INSTALLING"
        assert _state(client, plugin_id) == "INSTALLED"
        assert _code(client.post(f"{PLUGINS}/{plugin_id}/install"), 400) == "INSTALL_FAILED"
        assert client.post(f"{PLUGINS}/{plugin_id}/enable").json()["lifecycleStatus"] == "ACTIVE"
        already = client.post(f"{PLUGINS}/{plugin_id}/enable")
        assert _code(already, 400) == "ENABLE_FAILED" and "already active" in already.json()["error"]["message"]
        assert client.delete(f"{PLUGINS}/{plugin_id}").json() == {"success": True}
        assert _state(client, plugin_id) == "REGISTERED", "DELETE disables first and ends REGISTERED"
        assert _code(client.delete(f"{PLUGINS}/{plugin_id}"), 400) == "UNINSTALL_FAILED"
        assert _code(client.post(f"{PLUGINS}/plugin-nobody/enable"), 404) == "ENABLE_FAILED"


def test_a_required_dependency_must_be_installed_first(v1: Emulator) -> None:
    base, dependent = _new_id(), _new_id()
    needs = {"api": {"dependencies": [{"pluginId": base, "version": "^1.0.0", "required": True}]}}
    with v1.client() as client:
        client.post(PLUGINS, json=_manifest(base)).raise_for_status()
        client.post(PLUGINS, json=_manifest(dependent, **needs)).raise_for_status()
        refused = client.post(f"{PLUGINS}/{dependent}/install")
        assert _code(refused, 400) == "INSTALL_FAILED" and base in refused.json()["error"]["message"]
        client.post(f"{PLUGINS}/{base}/install").raise_for_status()
        assert client.post(f"{PLUGINS}/{dependent}/install").status_code == 201


def test_writes_need_a_bearer_header_and_a_non_empty_json_body(v1: Emulator) -> None:
    anonymous = httpx.post(f"{v1.url}{PLUGINS}", json=_manifest(_new_id()), timeout=10)
    assert _code(anonymous, 403) == "CSRF_TOKEN_MISSING"
    assert _code(httpx.get(f"{v1.url}{PLUGINS}", timeout=10), 401) == "AUTH_TOKEN_MISSING"
    with v1.client() as client:
        empty = client.post(f"{PLUGINS}/plugin-x/enable", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400 and empty.json()["code"] == "FST_ERR_CTP_EMPTY_JSON_BODY"


def test_the_service_registry_is_per_tenant_and_idempotent(v1: Emulator) -> None:
    plugin_id = _new_id()
    body = {"pluginId": plugin_id, "serviceName": "svc", "version": "1.0.0", "baseUrl": "http://10.0.0.1:8080"}
    with v1.client() as client:
        assert client.post(f"{SERVICES}/register", json=body).status_code == 401, "X-Tenant-Slug is required"
        first = client.post(f"{SERVICES}/register", json=body, headers=TENANT).json()
        second = client.post(f"{SERVICES}/register", json=body, headers=TENANT).json()
        assert first["serviceId"] == second["serviceId"] and first["success"] is True
        listed = client.get(SERVICES, params={"pluginId": plugin_id}, headers=TENANT).json()
        assert listed["count"] == 1 and listed["services"][0]["baseUrl"] == "http://10.0.0.1:8080"
        other = client.get(SERVICES, params={"pluginId": plugin_id}, headers={"X-Tenant-Slug": "acme"}).json()
        assert other == {"services": [], "count": 0}
        for _ in range(2):  # 200 even when already gone
            assert client.delete(f"{SERVICES}/{plugin_id}/svc", headers=TENANT).json()["success"] is True
        assert client.get(SERVICES, params={"pluginId": plugin_id}, headers=TENANT).json()["count"] == 0


def test_tokens_from_the_client_credentials_grant(v1: Emulator) -> None:
    form = {"grant_type": "client_credentials", "client_id": TEST_CLIENT_ID, "client_secret": "c-secret"}
    answer = httpx.post(v1.token_url, data=form, timeout=10).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 300
    ok = httpx.get(f"{v1.url}{PLUGINS}", headers={"Authorization": f"Bearer {answer['access_token']}"}, timeout=10)
    assert ok.status_code == 200
    wrong = httpx.post(v1.token_url, data={**form, "client_secret": "nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    forged = httpx.get(f"{v1.url}{PLUGINS}", headers={"Authorization": "Bearer forged"}, timeout=10)
    assert _code(forged, 401) == "AUTH_TOKEN_INVALID"


def test_the_v1_machine_is_valid_transitions_of_plugin_service() -> None:
    """`VALID_TRANSITIONS` plus the DELETE route (which disables an ACTIVE plugin first)."""
    edges = {(t.source, t.action, t.settles_in) for t in PLEXICA_V1_LIFECYCLE.transitions}
    assert edges == {
        (S.REGISTERED, LifecycleAction.INSTALL, S.INSTALLED),
        (S.INSTALLED, LifecycleAction.ENABLE, S.ACTIVE),
        (S.ACTIVE, LifecycleAction.DISABLE, S.DISABLED),
        (S.DISABLED, LifecycleAction.ENABLE, S.ACTIVE),
        (S.ACTIVE, LifecycleAction.UNINSTALL, S.REGISTERED),
        (S.DISABLED, LifecycleAction.UNINSTALL, S.REGISTERED),
        (S.INSTALLED, LifecycleAction.UNINSTALL, S.REGISTERED),
    }
    assert PLEXICA_V1_LIFECYCLE.removed is S.REGISTERED
    assert [t.action for t in PLEXICA_V1_LIFECYCLE.path(S.INSTALLED, S.DISABLED)] == ["enable", "disable"]
