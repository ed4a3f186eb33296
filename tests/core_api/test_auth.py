"""Auth and error shapes of the emulator over real HTTP: the bearer token, public routes, JSON errors."""

from __future__ import annotations

import httpx
import pytest

from tests._emulator import Emulator, unique_id
from tests.core_api._guide import PLUGINS, REGISTRY, error_body

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
        missing = error_body(anonymous.request(method, path), 401, "unauthorized")
        basic = error_body(anonymous.request(method, path, headers={"Authorization": "Basic abc"}), 401, "unauthorized")
        unauthenticated = anonymous.request(method, path)
    with emulator.client(token=emulator.token + "x") as wrong:
        forbidden = error_body(wrong.request(method, path), 403, "forbidden")
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    for body in (missing, basic, forbidden):
        assert emulator.token not in str(body)


def test_the_health_route_and_the_gateway_need_no_token(emulator: Emulator) -> None:
    assert httpx.get(f"{emulator.url}/_emulator/health").json() == {"status": "ok"}
    response = httpx.get(f"{emulator.url}/api/plugins/{unique_id()}/health/live")
    error_body(response, 404, "not_found")


def test_unknown_route_and_wrong_method_answer_json(emulator: Emulator) -> None:
    with emulator.client() as client:
        error_body(client.get("/api/v2/nothing"), 404, "not_found")
        error_body(client.put(PLUGINS), 405, "method_not_allowed")
