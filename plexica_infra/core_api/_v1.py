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
from typing import Any

from starlette.requests import Request

from plexica_infra.contract import v1_manifest_problems
from plexica_infra.core_api._errors import RawApiError, V1ApiError
from plexica_infra.core_api._records import PluginRecord

__all__ = ["GLOBAL_TENANT_ID", "invalid_manifest", "plugin_row", "v1_body"]

GLOBAL_TENANT_ID = "__global__"
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


async def v1_body(request: Request) -> Any:
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


def invalid_manifest(manifest: Any, code: str) -> V1ApiError | None:
    if not isinstance(manifest, dict):
        return V1ApiError(400, code, "Invalid plugin manifest: the body must be a JSON object")
    problems = v1_manifest_problems(manifest)
    if problems:
        detail = "; ".join(f"{pointer.lstrip('/').replace('/', '.')}: {message}" for pointer, message in problems)
        return V1ApiError(400, code, f"Invalid plugin manifest: {detail}")
    return None
