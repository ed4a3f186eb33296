"""The service-registry router of the guide dialect (keyed by plugin id and service name).

The endpoints of all of a plugin's services are the ones install, update and the
gateway use. A registration is an upsert, admitted first (`_admission.admit_service`).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import GUIDE_SERVICE_REGISTRY_PATH
from plexica_infra.core_api._admission import admit_service
from plexica_infra.core_api._auth import admin
from plexica_infra.core_api._errors import ApiError
from plexica_infra.core_api._models import ServiceRegistrationBody, json_body, parse
from plexica_infra.core_api._state import state_of

__all__ = ["REGISTRY_ROUTES"]

_log = logging.getLogger("plexica.core_api")


async def register_service(request: Request) -> Response:
    state = state_of(request)
    body: ServiceRegistrationBody = parse(ServiceRegistrationBody, await json_body(request), "service registration")
    await admit_service(state, body.plugin_id, body.service_name, body.unique_endpoints())
    service, created = state.store.upsert_service(body.plugin_id, body.service_name, body.unique_endpoints())
    _log.info(
        "%s: service %s %s with %s",
        service.plugin_id,
        service.service_name,
        "registered" if created else "re-registered",
        ", ".join(service.endpoints),
    )
    return JSONResponse(service.to_json(), status_code=201 if created else 200)


async def list_services(request: Request) -> Response:
    plugin_id = request.query_params.get("pluginId")
    return JSONResponse({"services": [s.to_json() for s in state_of(request).store.list_services(plugin_id)]})


async def deregister(request: Request) -> Response:
    plugin_id = request.path_params["plugin_id"]
    service_name = request.path_params.get("service_name")
    removed = state_of(request).store.delete_services(plugin_id, service_name)
    if not removed:
        what = f"service {service_name} of plugin {plugin_id}" if service_name else f"any service of plugin {plugin_id}"
        raise ApiError(
            404,
            "service_not_found",
            f"the service registry has no {what}",
            pluginId=plugin_id,
            serviceName=service_name,
        )
    _log.info("%s: deregistered %s", plugin_id, ", ".join(s.service_name for s in removed))
    return JSONResponse({"removed": [s.to_json() for s in removed]})


_REGISTRY = GUIDE_SERVICE_REGISTRY_PATH
REGISTRY_ROUTES = [
    Route(_REGISTRY, admin(register_service), methods=["POST"]),
    Route(f"{_REGISTRY}/services", admin(list_services), methods=["GET"]),
    Route(f"{_REGISTRY}/{{plugin_id}}", admin(deregister), methods=["DELETE"]),
    Route(f"{_REGISTRY}/{{plugin_id}}/{{service_name}}", admin(deregister), methods=["DELETE"]),
]
