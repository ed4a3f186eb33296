"""The plugins router of the plexica-v1 dialect (`apps/core-api`'s semantics, see `_v1.py`).

The lifecycle requests (install, enable, disable, uninstall) are generated from
`PLEXICA_V1_LIFECYCLE` (`_routing.py`); each handler answers with the real Core API's
codes. Register is not a table request there: a known id is a duplicate, whatever its state.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import PLEXICA_V1_LIFECYCLE, PLUGINS_PATH, LifecycleAction, LifecycleState
from plexica_infra.core_api._auth import Handler, admin
from plexica_infra.core_api._errors import RawApiError, V1ApiError
from plexica_infra.core_api._records import PluginExistsError, PluginRecord
from plexica_infra.core_api._routing import lifecycle_routes
from plexica_infra.core_api._state import EmulatorState, state_of
from plexica_infra.core_api._v1 import GLOBAL_TENANT_ID, invalid_manifest, plugin_row, v1_body

__all__ = ["V1_PLUGIN_ROUTES"]

_S = LifecycleState
_INSTALLED_STATES = frozenset({_S.INSTALLED, _S.ACTIVE, _S.DISABLED})
_MAX_LIMIT = 100


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(50, ge=1, le=1_000_000)
    status: str | None = None
    lifecycle_status: LifecycleState | None = Field(None, alias="lifecycleStatus")


def _find(state: EmulatorState, plugin_id: str, code: str) -> PluginRecord:
    plugin = state.store.get_plugin(plugin_id)
    if plugin is None:
        raise V1ApiError(404, code, f"Plugin '{plugin_id}' not found")
    return plugin


def _move(state: EmulatorState, plugin: PluginRecord, *steps: LifecycleState, code: str) -> PluginRecord:
    current = plugin
    for target in steps:
        moved = state.store.transition(current.id, current.state, target)
        if moved is None:
            now = _find(state, plugin.id, code)
            raise V1ApiError(400, code, f"Plugin '{plugin.id}' cannot transition from {now.state} to {target}")
        current = moved
    return current


async def list_plugins(request: Request) -> Response:
    try:
        query = _Query.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise V1ApiError(400, "INVALID_QUERY", str(exc.errors()[0]["msg"])) from None
    plugins = state_of(request).store.list_plugins(query.lifecycle_status)
    plugins = sorted(plugins, key=lambda p: p.created_at, reverse=True)
    take = min(query.limit, _MAX_LIMIT)
    page = plugins[(query.page - 1) * take : query.page * take]
    return JSONResponse({"plugins": [plugin_row(p) for p in page], "total": len(plugins)})


async def register(request: Request) -> Response:
    manifest = await v1_body(request)
    invalid = invalid_manifest(manifest, "INVALID_MANIFEST")
    if invalid is not None:
        raise invalid
    try:
        plugin = state_of(request).store.register(manifest)
    except PluginExistsError:
        raise V1ApiError(400, "REGISTRATION_FAILED", f"Plugin '{manifest['id']}' is already registered") from None
    return JSONResponse(plugin_row(plugin), status_code=201)


async def no_such_route(request: Request) -> Response:
    raise RawApiError(
        404,
        {"message": f"Route {request.method}:{request.url.path} not found", "error": "Not Found", "statusCode": 404},
    )


async def install(request: Request) -> Response:
    await v1_body(request)
    state = state_of(request)
    plugin = _find(state, request.path_params["plugin_id"], "INSTALL_FAILED")
    if plugin.state in _INSTALLED_STATES:
        raise V1ApiError(400, "INSTALL_FAILED", f"Failed to install plugin: Plugin '{plugin.id}' is already installed")
    if plugin.state is not _S.REGISTERED:
        raise V1ApiError(
            400,
            "INSTALL_FAILED",
            f"Failed to install plugin: Plugin '{plugin.id}' cannot transition from {plugin.state} to INSTALLING",
        )
    api = plugin.manifest.get("api")
    for dependency in (api.get("dependencies") or []) if isinstance(api, dict) else []:
        if not isinstance(dependency, dict) or not dependency.get("required"):
            continue
        held = state.store.get_plugin(str(dependency.get("pluginId")))
        if held is None or held.state not in _INSTALLED_STATES:
            raise V1ApiError(
                400,
                "INSTALL_FAILED",
                f"Cannot install plugin '{plugin.id}': required dependency '{dependency.get('pluginId')}' "
                "is not installed.",
            )
    installing = _move(state, plugin, _S.INSTALLING, code="INSTALL_FAILED")
    _move(state, installing, _S.INSTALLED, code="INSTALL_FAILED")
    record = {
        "id": str(uuid.uuid4()),
        "tenantId": GLOBAL_TENANT_ID,
        "pluginId": plugin.id,
        "enabled": False,
        "configuration": {},
        "plugin": plugin_row(installing),
    }
    return JSONResponse(record, status_code=201)


async def enable(request: Request) -> Response:
    await v1_body(request)
    state = state_of(request)
    plugin = _find(state, request.path_params["plugin_id"], "ENABLE_FAILED")
    if plugin.state is _S.ACTIVE:
        raise V1ApiError(400, "ENABLE_FAILED", f"Plugin '{plugin.id}' is already active")
    if plugin.state not in (_S.INSTALLED, _S.DISABLED):
        raise V1ApiError(400, "ENABLE_FAILED", f"Plugin '{plugin.id}' is not installed")
    return JSONResponse(plugin_row(_move(state, plugin, _S.ACTIVE, code="ENABLE_FAILED")))


async def disable(request: Request) -> Response:
    await v1_body(request)
    state = state_of(request)
    plugin = _find(state, request.path_params["plugin_id"], "DISABLE_FAILED")
    if plugin.state in (_S.DISABLED, _S.INSTALLED):
        raise V1ApiError(400, "DISABLE_FAILED", f"Plugin '{plugin.id}' is already inactive")
    if plugin.state is not _S.ACTIVE:
        raise V1ApiError(400, "DISABLE_FAILED", f"Plugin '{plugin.id}' is not installed")
    return JSONResponse(plugin_row(_move(state, plugin, _S.DISABLED, code="DISABLE_FAILED")))


async def update(request: Request) -> Response:
    manifest = await v1_body(request)
    invalid = invalid_manifest(manifest, "UPDATE_FAILED")
    if invalid is not None:
        raise invalid
    state = state_of(request)
    plugin = _find(state, request.path_params["plugin_id"], "UPDATE_FAILED")
    updated = state.store.replace_manifest(plugin.id, plugin.state, {**manifest, "id": plugin.id})
    if updated is None:
        raise V1ApiError(400, "UPDATE_FAILED", f"Plugin '{plugin.id}' changed state during the update")
    return JSONResponse(plugin_row(updated))


async def uninstall(request: Request) -> Response:
    await v1_body(request)
    state = state_of(request)
    plugin = _find(state, request.path_params["plugin_id"], "UNINSTALL_FAILED")
    if plugin.state not in _INSTALLED_STATES:
        raise V1ApiError(400, "UNINSTALL_FAILED", f"Plugin '{plugin.id}' is not installed")
    steps = [_S.DISABLED] if plugin.state is _S.ACTIVE else []
    _move(state, plugin, *steps, _S.UNINSTALLING, PLEXICA_V1_LIFECYCLE.removed, code="UNINSTALL_FAILED")
    return JSONResponse({"success": True})


_HANDLERS: dict[LifecycleAction, Handler] = {
    LifecycleAction.INSTALL: install,
    LifecycleAction.ENABLE: enable,
    LifecycleAction.DISABLE: disable,
    LifecycleAction.UNINSTALL: uninstall,
}
_ONE = f"{PLUGINS_PATH}/{{plugin_id}}"

#: The plexica-v1 plugin routes: the table's requests, plus list, register, update, and
#: the absent `GET /{id}` (Fastify's route-not-found answer, without auth).
V1_PLUGIN_ROUTES = [
    Route(PLUGINS_PATH, admin(list_plugins), methods=["GET"]),
    Route(PLUGINS_PATH, admin(register), methods=["POST"]),
    Route(_ONE, no_such_route, methods=["GET"]),
    *lifecycle_routes(PLEXICA_V1_LIFECYCLE, _HANDLERS, admin),
    Route(f"{_ONE}/update", admin(update), methods=["POST"]),
]
