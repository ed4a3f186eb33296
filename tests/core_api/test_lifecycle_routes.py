"""Every request of both lifecycle tables, sent to an emulator of that dialect over HTTP.

The routes are generated from `GUIDE_LIFECYCLE` and `PLEXICA_V1_LIFECYCLE`
(`core_api/_routing.py`). For each transition, a plugin is walked to the transition's
source with the table's own requests, the request is sent, and the answer and the state
the plugin settles in are checked; every request a steady state does not allow is
refused with the dialect's error and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.responses import Response

from plexica_infra.contract import (
    GUIDE_LIFECYCLE,
    PLEXICA_V1_LIFECYCLE,
    STEADY_STATES,
    LifecycleAction,
    LifecycleMachine,
    LifecycleState,
    Transition,
)
from plexica_infra.core_api._routing import LifecycleRequest, lifecycle_requests, lifecycle_routes
from tests._emulator import Emulator, FakePlugin, manifest, new_token, start_emulator, unique_id

S = LifecycleState
A = LifecycleAction
MACHINES = {"guide": GUIDE_LIFECYCLE, "plexica-v1": PLEXICA_V1_LIFECYCLE}


def _reachable(machine: LifecycleMachine) -> list[LifecycleState]:
    """The steady states a plugin registered in `machine`'s Core API can be walked to."""
    reachable = []
    for state in sorted(STEADY_STATES):
        try:
            machine.path(S.REGISTERED, state)
        except ValueError:
            continue
        reachable.append(state)
    return reachable


CASES = [(name, t) for name, machine in MACHINES.items() for t in machine.transitions]
REFUSALS = [
    (name, state, request)
    for name, machine in MACHINES.items()
    for state in _reachable(machine)
    for request in lifecycle_requests(machine)
    if request.action not in {t.action for t in machine.allowed(state)}
]
# What each dialect answers a request the table allows.
SUCCESS_STATUS = {
    ("guide", A.REGISTER): 201,
    ("plexica-v1", A.INSTALL): 201,
}


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = start_emulator(tmp_path_factory.mktemp("v1-routes") / "core-api.db", new_token(), dialect="plexica-v1")
    yield emulator
    emulator.stop()


@pytest.fixture
def dialects(emulator: Emulator, v1: Emulator) -> dict[str, Emulator]:
    return {"guide": emulator, "plexica-v1": v1}


def _send(client: httpx.Client, request: LifecycleRequest | Transition, plugin_id: str) -> httpx.Response:
    path = request.path.format(id=plugin_id)
    if request.action is A.REGISTER:
        return client.request(request.method, path, json=manifest(plugin_id))
    return client.request(request.method, path)


def _state(client: httpx.Client, dialect: str, plugin_id: str) -> str:
    if dialect == "guide":
        return str(client.get(f"/api/v1/plugins/{plugin_id}").json()["state"])
    rows = client.get("/api/v1/plugins", params={"limit": "100"}).json()["plugins"]
    return str(next(row["lifecycleStatus"] for row in rows if row["id"] == plugin_id))


def _plugin_in(client: httpx.Client, dialect: str, state: LifecycleState, healthy: FakePlugin) -> str:
    """A new plugin walked to `state` with the table's own requests."""
    if dialect == "guide":
        plugin_id = unique_id()
        body: dict[str, Any] = {"pluginId": plugin_id, "serviceName": "api", "endpoints": [healthy.url]}
        assert client.post("/api/v1/service-registry", json=body).status_code == 201
        assert client.post("/api/v1/plugins", json=manifest(plugin_id)).status_code == 201
    else:
        plugin_id = f"plugin-{uuid.uuid4().hex[:8]}"
        v1_manifest = {
            **manifest(plugin_id),
            "description": "A plugin for the lifecycle route tests.",
            "category": "testing",
            "metadata": {"license": "MIT", "author": {"name": "tests"}},
        }
        assert client.post("/api/v1/plugins", json=v1_manifest).status_code == 201
    for step in MACHINES[dialect].path(S.REGISTERED, state):
        answer = _send(client, step, plugin_id)
        assert answer.status_code in (200, 201), f"{step.action} on the way to {state}: {answer.text}"
    assert _state(client, dialect, plugin_id) == state
    return plugin_id


@pytest.mark.parametrize(("dialect", "transition"), CASES, ids=[f"{d}-{t.action}-from-{t.source}" for d, t in CASES])
def test_every_request_of_the_table_moves_the_plugin_as_the_table_says(
    dialects: dict[str, Emulator], fake_plugin: Callable[..., FakePlugin], dialect: str, transition: Transition
) -> None:
    with dialects[dialect].client() as client:
        plugin_id = _plugin_in(client, dialect, transition.source, fake_plugin())
        answer = _send(client, transition, plugin_id)
        settled = _state(client, dialect, plugin_id)
    assert answer.status_code == SUCCESS_STATUS.get((dialect, transition.action), 200), answer.text
    body = answer.json()
    if dialect == "guide":
        assert body["id"] == plugin_id and body["state"] == transition.settles_in
    elif transition.action is A.INSTALL:
        assert body["pluginId"] == plugin_id and body["plugin"]["lifecycleStatus"] == transition.target
    elif transition.action is A.UNINSTALL:
        assert body == {"success": True}
    else:
        assert body["id"] == plugin_id and body["lifecycleStatus"] == transition.settles_in
    assert settled == transition.settles_in


@pytest.mark.parametrize(
    ("dialect", "state", "request_"),
    REFUSALS,
    ids=[f"{d}-{r.action}-in-{s}" for d, s, r in REFUSALS],
)
def test_every_request_the_state_does_not_allow_is_refused(
    dialects: dict[str, Emulator],
    fake_plugin: Callable[..., FakePlugin],
    dialect: str,
    state: LifecycleState,
    request_: LifecycleRequest,
) -> None:
    with dialects[dialect].client() as client:
        plugin_id = _plugin_in(client, dialect, state, fake_plugin())
        answer = _send(client, request_, plugin_id)
        after = _state(client, dialect, plugin_id)
    assert after == state, "a refused request changes nothing"
    body = answer.json()
    if dialect == "plexica-v1":
        assert answer.status_code == 400, answer.text
        assert body["error"]["code"] == f"{request_.action.upper()}_FAILED"
        return
    assert answer.status_code == 409, answer.text
    allowed = [t.action.value for t in GUIDE_LIFECYCLE.allowed(state)]
    assert body["error"] == ("plugin_exists" if request_.action is A.REGISTER else "invalid_transition")
    assert body["currentState"] == state
    assert [item["action"] for item in body["allowedTransitions"]] == allowed


def test_each_request_of_a_table_is_one_route() -> None:
    guide = [(r.method, r.path, r.action) for r in lifecycle_requests(GUIDE_LIFECYCLE)]
    assert guide == [
        ("POST", "/api/v1/plugins/{id}/install", A.INSTALL),
        ("POST", "/api/v1/plugins/{id}/enable", A.ENABLE),
        ("POST", "/api/v1/plugins/{id}/disable", A.DISABLE),
        ("DELETE", "/api/v1/plugins/{id}", A.UNINSTALL),
        ("POST", "/api/v1/plugins", A.REGISTER),
    ]
    assert [r.action for r in lifecycle_requests(PLEXICA_V1_LIFECYCLE)] == [A.INSTALL, A.ENABLE, A.DISABLE, A.UNINSTALL]


async def _handler(_: object) -> Response:
    return Response()


def test_routes_and_handlers_must_match_the_table() -> None:
    handlers = {action: _handler for action in (A.INSTALL, A.ENABLE, A.DISABLE, A.UNINSTALL)}
    routes = lifecycle_routes(PLEXICA_V1_LIFECYCLE, handlers, lambda handler: handler)
    assert [(route.path, sorted(route.methods or ())) for route in routes] == [
        ("/api/v1/plugins/{plugin_id}/install", ["POST"]),
        ("/api/v1/plugins/{plugin_id}/enable", ["POST"]),
        ("/api/v1/plugins/{plugin_id}/disable", ["POST"]),
        ("/api/v1/plugins/{plugin_id}", ["DELETE"]),
    ]
    with pytest.raises(ValueError, match="the guide lifecycle has no handler for register"):
        lifecycle_routes(GUIDE_LIFECYCLE, handlers, lambda handler: handler)
    with pytest.raises(ValueError, match="the plexica-v1 lifecycle has no request for register"):
        lifecycle_routes(PLEXICA_V1_LIFECYCLE, {**handlers, A.REGISTER: _handler}, lambda handler: handler)


def test_two_actions_on_one_request_are_refused() -> None:
    clash = LifecycleMachine(
        name="clash",
        transitions=(
            Transition(A.ENABLE, S.INSTALLED, S.ACTIVE, S.ACTIVE, "POST", "/api/v1/plugins/{id}/go"),
            Transition(A.DISABLE, S.ACTIVE, S.DISABLED, S.DISABLED, "POST", "/api/v1/plugins/{id}/go"),
        ),
        removed=S.DISABLED,
        register_from=frozenset(),
    )
    with pytest.raises(ValueError, match=r"maps POST /api/v1/plugins/\{id\}/go to both enable and disable"):
        lifecycle_requests(clash)
