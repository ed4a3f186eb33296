"""The service-registry router of the plexica-v1 dialect: the real Core API's plugin gateway.

Per tenant (`X-Tenant-Slug`, 401 without); a registration is an upsert whose endpoints
(`metadata.instances`, else `baseUrl`) are admitted first (`_admission.admit_service`);
a deregistration answers 200 even when there was nothing to remove.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import (
    TENANT_HEADER,
    V1_INSTANCES_KEY,
    V1_SERVICE_REGISTER_PATH,
    V1_SERVICES_PATH,
    V1ServiceRegistration,
)
from plexica_infra.core_api._admission import admit_service
from plexica_infra.core_api._auth import admin
from plexica_infra.core_api._errors import ApiError, RawApiError, V1ApiError
from plexica_infra.core_api._records import ServiceRecord
from plexica_infra.core_api._state import state_of
from plexica_infra.core_api._v1 import v1_body

__all__ = ["V1_REGISTRY_ROUTES"]


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


def _tenant(request: Request) -> str:
    slug = request.headers.get(TENANT_HEADER.lower(), "")
    if not slug:
        raise RawApiError(401, {"error": f"{TENANT_HEADER} header required"})
    return slug


def _registration(body: Any) -> V1ServiceRegistration:
    try:
        return V1ServiceRegistration.model_validate(body if isinstance(body, dict) else {})
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


async def register_service(request: Request) -> Response:
    state = state_of(request)
    body = await v1_body(request)
    slug = _tenant(request)
    registration = _registration(body)
    metadata = registration.metadata or {}
    instances = metadata.get(V1_INSTANCES_KEY)
    endpoints = (
        [url for url in instances if isinstance(url, str)]
        if isinstance(instances, list)
        else ([registration.base_url] if registration.base_url else [])
    )
    unique = list(dict.fromkeys(endpoints))
    try:
        await admit_service(state, registration.plugin_id, registration.service_name, unique)
    except ApiError as exc:
        raise V1ApiError(exc.status_code, exc.error.upper(), exc.message) from None
    services = {s.service_name: s for s in state.store.list_services(registration.plugin_id)}
    held = services.get(registration.service_name)
    service_id = held.details.get("serviceId") if held is not None else None
    details = {
        "tenant": slug,
        "serviceId": service_id or str(uuid.uuid4()),
        "version": registration.version,
        "baseUrl": registration.base_url,
        "endpoints": [endpoint.model_dump(exclude_none=True) for endpoint in registration.endpoints or []],
        "metadata": metadata,
    }
    service, _ = state.store.upsert_service(registration.plugin_id, registration.service_name, unique, details)
    return JSONResponse(
        {"success": True, "serviceId": service.details["serviceId"], "message": "Service registered successfully"},
        status_code=201,
    )


async def list_services(request: Request) -> Response:
    slug = _tenant(request)
    plugin_id = request.query_params.get("pluginId")
    held = state_of(request).store.list_services(plugin_id)
    services = [_service_json(s) for s in held if s.details.get("tenant") == slug]
    return JSONResponse({"services": services, "count": len(services)})


async def deregister(request: Request) -> Response:
    await v1_body(request)
    slug = _tenant(request)
    store = state_of(request).store
    plugin_id, name = request.path_params["plugin_id"], request.path_params["service_name"]
    for service in store.list_services(plugin_id):
        if service.service_name == name and service.details.get("tenant") == slug:
            store.delete_services(plugin_id, name)
    return JSONResponse({"success": True, "message": "Service deregistered successfully"})


V1_REGISTRY_ROUTES = [
    Route(V1_SERVICE_REGISTER_PATH, admin(register_service), methods=["POST"]),
    Route(V1_SERVICES_PATH, admin(list_services), methods=["GET"]),
    Route(f"{V1_SERVICES_PATH}/{{plugin_id}}/{{service_name}}", admin(deregister), methods=["DELETE"]),
]
