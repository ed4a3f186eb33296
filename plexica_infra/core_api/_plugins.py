"""The plugins router of the guide dialect: register, list, read, lifecycle actions, update.

The lifecycle requests (install, enable, disable, uninstall, and register again from
UNINSTALLED) are generated from `GUIDE_LIFECYCLE` (`_routing.py`); one handler walks
any transition of the table: it moves the plugin to the transition's target, does the
action's work (install: the health check, which on failure moves it back), then lets
it settle where the table says (INSTALLING -> INSTALLED, UNINSTALLING -> UNINSTALLED).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import (
    GUIDE_LIFECYCLE,
    PLUGINS_PATH,
    UPDATABLE_STATES,
    LifecycleAction,
    LifecycleState,
    allowed_transitions,
)
from plexica_infra.core_api._admission import check_plugin_health
from plexica_infra.core_api._auth import Handler, admin
from plexica_infra.core_api._errors import ApiError
from plexica_infra.core_api._models import ManifestHead, json_body, parse
from plexica_infra.core_api._records import PluginExistsError, PluginRecord
from plexica_infra.core_api._routing import lifecycle_routes
from plexica_infra.core_api._state import EmulatorState, state_of

__all__ = ["PLUGIN_ROUTES", "invalid_transition"]

_log = logging.getLogger("plexica.core_api")
_ONE = f"{PLUGINS_PATH}/{{plugin_id}}"


def _allowed(plugin: PluginRecord) -> list[dict[str, str]]:
    return [
        {
            "action": transition.action.value,
            "method": transition.method,
            "path": transition.path.format(id=plugin.id),
            "to": transition.target.value,
        }
        for transition in allowed_transitions(plugin.state)
    ]


def invalid_transition(plugin: PluginRecord, requested: str) -> ApiError:
    """409 invalid_transition: the plugin's state and the requests it allows."""
    allowed = _allowed(plugin)
    names = ", ".join(item["action"] for item in allowed) or "none"
    extra = ""
    if requested == "update":
        extra = f" (update is accepted in {', '.join(sorted(UPDATABLE_STATES))})"
    return ApiError(
        409,
        "invalid_transition",
        f"cannot {requested} plugin {plugin.id}: it is {plugin.state}{extra}; allowed from {plugin.state}: {names}",
        pluginId=plugin.id,
        requested=str(requested),
        currentState=plugin.state.value,
        allowedTransitions=allowed,
    )


def _require_plugin(state: EmulatorState, plugin_id: str) -> PluginRecord:
    plugin = state.store.get_plugin(plugin_id)
    if plugin is None:
        raise ApiError(
            404,
            "plugin_not_found",
            f"plugin {plugin_id} is not registered (POST /api/v1/plugins first)",
            pluginId=plugin_id,
        )
    return plugin


def _move(state: EmulatorState, plugin: PluginRecord, target: LifecycleState, action: str) -> PluginRecord:
    moved = state.store.transition(plugin.id, plugin.state, target)
    if moved is None:
        # Another request moved it between our read and our write.
        raise invalid_transition(_require_plugin(state, plugin.id), action)
    _log.info("%s: %s -> %s (%s)", plugin.id, plugin.state, target, action)
    return moved


async def register(request: Request) -> Response:
    state = state_of(request)
    manifest = await json_body(request)
    head = parse(ManifestHead, manifest, "plugin manifest")
    try:
        plugin = state.store.register(manifest)
    except PluginExistsError as exc:
        current = exc.record
        raise ApiError(
            409,
            "plugin_exists",
            f"plugin {head.id} already exists and is {current.state}; registering again is "
            "allowed only once it is UNINSTALLED",
            pluginId=head.id,
            currentState=current.state.value,
            allowedTransitions=_allowed(current),
        ) from exc
    _log.info("%s: registered version %s -> REGISTERED", plugin.id, plugin.version)
    return JSONResponse(plugin.to_json(), status_code=201)


async def list_plugins(request: Request) -> Response:
    wanted = request.query_params.get("state")
    state: LifecycleState | None = None
    if wanted is not None:
        try:
            state = LifecycleState(wanted.upper())
        except ValueError:
            raise ApiError(
                400,
                "invalid_request",
                f"unknown state {wanted!r}; use one of {', '.join(LifecycleState)}",
            ) from None
    return JSONResponse({"plugins": [p.to_json() for p in state_of(request).store.list_plugins(state)]})


async def get_plugin(request: Request) -> Response:
    return JSONResponse(_require_plugin(state_of(request), request.path_params["plugin_id"]).to_json())


async def _health_gate(state: EmulatorState, plugin: PluginRecord, consequence: str) -> None:
    await check_plugin_health(state, plugin.id, plugin.manifest, "install", consequence)


#: The work an action does between its transition's target and where it settles;
#: a failure moves the plugin back to the transition's source.
_WORK: dict[LifecycleAction, Callable[[EmulatorState, PluginRecord, str], Awaitable[None]]] = {
    LifecycleAction.INSTALL: _health_gate,
}


def _transition_handler(action: LifecycleAction) -> Handler:
    async def handler(request: Request) -> Response:
        state = state_of(request)
        plugin = _require_plugin(state, request.path_params["plugin_id"])
        transition = next((t for t in state.machine.allowed(plugin.state) if t.action is action), None)
        if transition is None:
            raise invalid_transition(plugin, action)
        moved = _move(state, plugin, transition.target, action.value)
        work = _WORK.get(action)
        if work is not None:
            consequence = f"the plugin is back in {transition.source}"
            try:
                await work(state, plugin, consequence)
            except ApiError as exc:
                state.store.transition(plugin.id, transition.target, transition.source, last_error=exc.message)
                _log.warning("%s: %s -> %s: %s", plugin.id, transition.target, transition.source, exc.message)
                exc.extra["currentState"] = transition.source.value
                raise
        # The gateway routes only ACTIVE plugins, so an uninstalled plugin's routes are already
        # gone; the service registry belongs to the plugin's containers and is left to them.
        if moved.state is not transition.settles_in:
            moved = _move(state, moved, transition.settles_in, action.value)
        return JSONResponse(moved.to_json())

    return handler


async def update(request: Request) -> Response:
    state = state_of(request)
    plugin_id = request.path_params["plugin_id"]
    manifest = await json_body(request)
    head = parse(ManifestHead, manifest, "plugin manifest")
    if head.id != plugin_id:
        raise ApiError(
            400,
            "id_mismatch",
            f"the manifest's id {head.id!r} is not the plugin {plugin_id!r} being updated",
            pluginId=plugin_id,
        )
    plugin = _require_plugin(state, plugin_id)
    if plugin.state not in UPDATABLE_STATES:
        raise invalid_transition(plugin, "update")
    if plugin.manifest == manifest:
        return JSONResponse({**plugin.to_json(), "previousVersion": plugin.version})
    if plugin.state in (LifecycleState.INSTALLED, LifecycleState.ACTIVE):
        consequence = f"the plugin stays at version {plugin.version} and {plugin.state}"
        try:
            await check_plugin_health(state, plugin_id, manifest, "update", consequence)
        except ApiError as exc:
            state.store.set_last_error(plugin_id, exc.message)
            exc.extra["currentState"] = plugin.state.value
            _log.warning("%s: update to %s refused: %s", plugin_id, head.version, exc.message)
            raise
    updated = state.store.replace_manifest(plugin_id, plugin.state, manifest)
    if updated is None:
        raise invalid_transition(_require_plugin(state, plugin_id), "update")
    _log.info("%s: version %s -> %s (state %s kept)", plugin_id, plugin.version, updated.version, updated.state)
    return JSONResponse({**updated.to_json(), "previousVersion": plugin.version})


_HANDLERS: dict[LifecycleAction, Handler] = {
    LifecycleAction.REGISTER: register,
    **{
        action: _transition_handler(action)
        for action in (
            LifecycleAction.INSTALL,
            LifecycleAction.ENABLE,
            LifecycleAction.DISABLE,
            LifecycleAction.UNINSTALL,
        )
    },
}

#: The guide dialect's plugin routes: the table's requests, plus list, read and update.
PLUGIN_ROUTES = [
    *lifecycle_routes(GUIDE_LIFECYCLE, _HANDLERS, admin),
    Route(PLUGINS_PATH, admin(list_plugins), methods=["GET"]),
    Route(_ONE, admin(get_plugin), methods=["GET"]),
    Route(f"{_ONE}/update", admin(update), methods=["POST"]),
]
