"""The emulator's `plexica-v1` dialect: the real Core API's routes, bodies, codes and semantics.

What `apps/core-api` does (see `plexica_infra.providers.dialects.plexica_v1` for the
files), over the same store and lifecycle table as the guide dialect:

    GET    /api/v1/plugins[?page&limit&status&lifecycleStatus]   200 {plugins, total}, newest first
    POST   /api/v1/plugins            strict manifest schema (400 INVALID_MANIFEST); 201 the row
                                      (lifecycleStatus REGISTERED); a known id is 400
                                      REGISTRATION_FAILED "... is already registered"
    GET    /api/v1/plugins/{id}       no such route: Fastify's 404 route-not-found body
    POST   /api/v1/plugins/{id}/install   REGISTERED -> INSTALLING -> INSTALLED, no health check;
                                      a required `api.dependencies` plugin not installed is 400;
                                      201 an install record (its plugin still reads INSTALLING)
    POST   /api/v1/plugins/{id}/enable    INSTALLED|DISABLED -> ACTIVE; "already active" is 400
    POST   /api/v1/plugins/{id}/disable   ACTIVE -> DISABLED; "already inactive" is 400
    POST   /api/v1/plugins/{id}/update    re-validates; new name/version/manifest, state kept
    DELETE /api/v1/plugins/{id}       disables if ACTIVE, -> UNINSTALLING -> REGISTERED; 200 {success}
    POST   /api/plugin-gateway/services/register   X-Tenant-Slug (401 without); upsert; 201
                                      {success, serviceId, message}
    GET    /api/plugin-gateway/services?pluginId=  {services, count}
    DELETE /api/plugin-gateway/services/{pluginId}/{serviceName}   200 {success}, even if absent

Errors are `{"error": {"code", "message"}}`. Not emulated: tenants beyond the slug
label, the automatic registration of a manifest's `api.services` at register time
(it would leave services that no DELETE removes), containers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import (
    PLEXICA_V1_LIFECYCLE,
    PLUGINS_PATH,
    TENANT_HEADER,
    V1_INSTANCES_KEY,
    V1_SERVICE_REGISTER_PATH,
    V1_SERVICES_PATH,
    LifecycleState,
    V1ServiceRegistration,
    v1_manifest_problems,
)
from plexica_infra.core_api._errors import ApiError, RawApiError, V1ApiError
from plexica_infra.core_api._store import PluginExistsError, PluginRecord, ServiceRecord, Store

__all__ = ["GLOBAL_TENANT_ID", "plugin_row", "v1_routes"]

GLOBAL_TENANT_ID = "__global__"
_S = LifecycleState
_INSTALLED_STATES = frozenset({_S.INSTALLED, _S.ACTIVE, _S.DISABLED})
_MAX_LIMIT = 100
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def plugin_row(plugin: PluginRecord) -> dict[str, Any]:
    """A plugin as the real Core API's Prisma row serializes."""
    manifest = plugin.manifest
    return {
        "id": plugin.id,
        "name": plugin.name,
        "version": plugin.version,
        "description": manifest.get("description"),
        "category": manifest.get("category"),
        "manifest": manifest,
        "status": "PUBLISHED",
        "lifecycleStatus": plugin.state.value,
        "createdAt": plugin.created_at,
        "updatedAt": plugin.updated_at,
    }


def _service_json(service: ServiceRecord) -> dict[str, Any]:
    details = service.details
    return {
        "id": details.get("serviceId", ""),
        "pluginId": service.plugin_id,
        "serviceName": service.service_name,
        "version": details.get("version", ""),
        "baseUrl": details.get("baseUrl"),
        "status": "HEALTHY",
        "endpoints": details.get("endpoints", []),
        "metadata": details.get("metadata", {}),
        "lastSeenAt": service.updated_at,
    }


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(50, ge=1, le=1_000_000)
    status: str | None = None
    lifecycle_status: LifecycleState | None = Field(None, alias="lifecycleStatus")


def _csrf_and_body_rules(request: Request, raw: bytes) -> None:
    """`index.ts`'s global hook and Fastify's JSON parser, as a client meets them."""
    if request.method in _WRITE_METHODS:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise V1ApiError(403, "CSRF_TOKEN_MISSING", "CSRF token missing")
    if not raw and "application/json" in request.headers.get("content-type", ""):
        raise RawApiError(
            400,
            {
                "statusCode": 400,
                "code": "FST_ERR_CTP_EMPTY_JSON_BODY",
                "error": "Bad Request",
                "message": "Body cannot be empty when content-type is set to 'application/json'",
            },
        )


async def _body(request: Request) -> Any:
    raw = await request.body()
    _csrf_and_body_rules(request, raw)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RawApiError(
            400,
            {"statusCode": 400, "code": "FST_ERR_CTP_INVALID_JSON_BODY", "error": "Bad Request", "message": str(exc)},
        ) from exc


def _invalid_manifest(manifest: Any, code: str) -> V1ApiError | None:
    if not isinstance(manifest, dict):
        return V1ApiError(400, code, "Invalid plugin manifest: the body must be a JSON object")
    problems = v1_manifest_problems(manifest)
    if problems:
        detail = "; ".join(f"{pointer.lstrip('/').replace('/', '.')}: {message}" for pointer, message in problems)
        return V1ApiError(400, code, f"Invalid plugin manifest: {detail}")
    return None


def v1_routes(
    store: Store, admin: Any, admit: Callable[[str, str, list[str]], Awaitable[None]] | None = None
) -> list[Route]:
    """The plexica-v1 admin routes; `admin` wraps a handler in the bearer-token check, and
    `admit` checks a service registration's endpoints before the registry changes
    (the gateway's rules, `_gateway.py`)."""

    def find(plugin_id: str, code: str) -> PluginRecord:
        plugin = store.get_plugin(plugin_id)
        if plugin is None:
            raise V1ApiError(404, code, f"Plugin '{plugin_id}' not found")
        return plugin

    def move(plugin: PluginRecord, *steps: LifecycleState, code: str) -> PluginRecord:
        current = plugin
        for target in steps:
            moved = store.transition(current.id, current.state, target)
            if moved is None:
                now = find(plugin.id, code)
                raise V1ApiError(400, code, f"Plugin '{plugin.id}' cannot transition from {now.state} to {target}")
            current = moved
        return current

    async def list_plugins(request: Request) -> Response:
        try:
            query = _Query.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise V1ApiError(400, "INVALID_QUERY", str(exc.errors()[0]["msg"])) from None
        plugins = sorted(store.list_plugins(query.lifecycle_status), key=lambda p: p.created_at, reverse=True)
        take = min(query.limit, _MAX_LIMIT)
        page = plugins[(query.page - 1) * take : query.page * take]
        return JSONResponse({"plugins": [plugin_row(p) for p in page], "total": len(plugins)})

    async def register(request: Request) -> Response:
        manifest = await _body(request)
        invalid = _invalid_manifest(manifest, "INVALID_MANIFEST")
        if invalid is not None:
            raise invalid
        try:
            plugin = store.register(manifest)
        except PluginExistsError:
            raise V1ApiError(400, "REGISTRATION_FAILED", f"Plugin '{manifest['id']}' is already registered") from None
        return JSONResponse(plugin_row(plugin), status_code=201)

    async def no_such_route(request: Request) -> Response:
        raise RawApiError(
            404,
            {
                "message": f"Route {request.method}:{request.url.path} not found",
                "error": "Not Found",
                "statusCode": 404,
            },
        )

    async def install(request: Request) -> Response:
        await _body(request)
        plugin = find(request.path_params["plugin_id"], "INSTALL_FAILED")
        if plugin.state in _INSTALLED_STATES:
            raise V1ApiError(
                400, "INSTALL_FAILED", f"Failed to install plugin: Plugin '{plugin.id}' is already installed"
            )
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
            held = store.get_plugin(str(dependency.get("pluginId")))
            if held is None or held.state not in _INSTALLED_STATES:
                raise V1ApiError(
                    400,
                    "INSTALL_FAILED",
                    f"Cannot install plugin '{plugin.id}': required dependency '{dependency.get('pluginId')}' "
                    "is not installed.",
                )
        installing = move(plugin, _S.INSTALLING, code="INSTALL_FAILED")
        move(installing, _S.INSTALLED, code="INSTALL_FAILED")
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
        await _body(request)
        plugin = find(request.path_params["plugin_id"], "ENABLE_FAILED")
        if plugin.state is _S.ACTIVE:
            raise V1ApiError(400, "ENABLE_FAILED", f"Plugin '{plugin.id}' is already active")
        if plugin.state not in (_S.INSTALLED, _S.DISABLED):
            raise V1ApiError(400, "ENABLE_FAILED", f"Plugin '{plugin.id}' is not installed")
        return JSONResponse(plugin_row(move(plugin, _S.ACTIVE, code="ENABLE_FAILED")))

    async def disable(request: Request) -> Response:
        await _body(request)
        plugin = find(request.path_params["plugin_id"], "DISABLE_FAILED")
        if plugin.state in (_S.DISABLED, _S.INSTALLED):
            raise V1ApiError(400, "DISABLE_FAILED", f"Plugin '{plugin.id}' is already inactive")
        if plugin.state is not _S.ACTIVE:
            raise V1ApiError(400, "DISABLE_FAILED", f"Plugin '{plugin.id}' is not installed")
        return JSONResponse(plugin_row(move(plugin, _S.DISABLED, code="DISABLE_FAILED")))

    async def update(request: Request) -> Response:
        manifest = await _body(request)
        invalid = _invalid_manifest(manifest, "UPDATE_FAILED")
        if invalid is not None:
            raise invalid
        plugin = find(request.path_params["plugin_id"], "UPDATE_FAILED")
        updated = store.replace_manifest(plugin.id, plugin.state, {**manifest, "id": plugin.id})
        if updated is None:
            raise V1ApiError(400, "UPDATE_FAILED", f"Plugin '{plugin.id}' changed state during the update")
        return JSONResponse(plugin_row(updated))

    async def uninstall(request: Request) -> Response:
        await _body(request)
        plugin = find(request.path_params["plugin_id"], "UNINSTALL_FAILED")
        if plugin.state not in _INSTALLED_STATES:
            raise V1ApiError(400, "UNINSTALL_FAILED", f"Plugin '{plugin.id}' is not installed")
        steps = [_S.DISABLED] if plugin.state is _S.ACTIVE else []
        move(plugin, *steps, _S.UNINSTALLING, PLEXICA_V1_LIFECYCLE.removed, code="UNINSTALL_FAILED")
        return JSONResponse({"success": True})

    def tenant(request: Request) -> str:
        slug = request.headers.get(TENANT_HEADER.lower(), "")
        if not slug:
            raise RawApiError(401, {"error": f"{TENANT_HEADER} header required"})
        return slug

    async def register_service(request: Request) -> Response:
        body = await _body(request)
        slug = tenant(request)
        try:
            registration = V1ServiceRegistration.model_validate(body if isinstance(body, dict) else {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(part) for part in first["loc"])
            raise RawApiError(
                400,
                {
                    "statusCode": 400,
                    "code": "FST_ERR_VALIDATION",
                    "error": "Bad Request",
                    "message": f"body/{where} {first['msg']}",
                },
            ) from None
        metadata = registration.metadata or {}
        instances = metadata.get(V1_INSTANCES_KEY)
        endpoints = (
            [url for url in instances if isinstance(url, str)]
            if isinstance(instances, list)
            else ([registration.base_url] if registration.base_url else [])
        )
        if admit is not None:
            try:
                await admit(registration.plugin_id, registration.service_name, list(dict.fromkeys(endpoints)))
            except ApiError as exc:
                raise V1ApiError(exc.status_code, exc.error.upper(), exc.message) from None
        held = {s.service_name: s for s in store.list_services(registration.plugin_id)}.get(registration.service_name)
        service_id = held.details.get("serviceId") if held is not None else None
        details = {
            "tenant": slug,
            "serviceId": service_id or str(uuid.uuid4()),
            "version": registration.version,
            "baseUrl": registration.base_url,
            "endpoints": [endpoint.model_dump(exclude_none=True) for endpoint in registration.endpoints or []],
            "metadata": metadata,
        }
        service, _ = store.upsert_service(
            registration.plugin_id, registration.service_name, list(dict.fromkeys(endpoints)), details
        )
        return JSONResponse(
            {"success": True, "serviceId": service.details["serviceId"], "message": "Service registered successfully"},
            status_code=201,
        )

    async def list_services(request: Request) -> Response:
        slug = tenant(request)
        plugin_id = request.query_params.get("pluginId")
        services = [_service_json(s) for s in store.list_services(plugin_id) if s.details.get("tenant") == slug]
        return JSONResponse({"services": services, "count": len(services)})

    async def deregister(request: Request) -> Response:
        await _body(request)
        slug = tenant(request)
        plugin_id, name = request.path_params["plugin_id"], request.path_params["service_name"]
        for service in store.list_services(plugin_id):
            if service.service_name == name and service.details.get("tenant") == slug:
                store.delete_services(plugin_id, name)
        return JSONResponse({"success": True, "message": "Service deregistered successfully"})

    one = f"{PLUGINS_PATH}/{{plugin_id}}"
    return [
        Route(PLUGINS_PATH, admin(list_plugins), methods=["GET"]),
        Route(PLUGINS_PATH, admin(register), methods=["POST"]),
        Route(one, no_such_route, methods=["GET"]),
        Route(one, admin(uninstall), methods=["DELETE"]),
        Route(f"{one}/install", admin(install), methods=["POST"]),
        Route(f"{one}/enable", admin(enable), methods=["POST"]),
        Route(f"{one}/disable", admin(disable), methods=["POST"]),
        Route(f"{one}/update", admin(update), methods=["POST"]),
        Route(V1_SERVICE_REGISTER_PATH, admin(register_service), methods=["POST"]),
        Route(V1_SERVICES_PATH, admin(list_services), methods=["GET"]),
        Route(f"{V1_SERVICES_PATH}/{{plugin_id}}/{{service_name}}", admin(deregister), methods=["DELETE"]),
    ]
