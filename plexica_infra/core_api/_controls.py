"""The emulator's own controls: `GET /_emulator/health` (public) and, with the admin
token, `GET|POST|DELETE /_emulator/faults` (the fault plan, `FaultSettings`)."""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.core_api._auth import admin
from plexica_infra.core_api._models import FaultSettings, json_body, parse
from plexica_infra.core_api._state import state_of

__all__ = ["CONTROL_ROUTES"]

_log = logging.getLogger("plexica.core_api")


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def get_faults(request: Request) -> Response:
    return JSONResponse(state_of(request).faults.to_json())


async def set_faults(request: Request) -> Response:
    faults = state_of(request).faults
    settings: FaultSettings = parse(FaultSettings, await json_body(request), "fault plan")
    faults.replace(settings)
    _log.info("faults set: %s", json.dumps(faults.to_json(), sort_keys=True))
    return JSONResponse(faults.to_json())


async def clear_faults(request: Request) -> Response:
    faults = state_of(request).faults
    faults.clear()
    return JSONResponse(faults.to_json())


CONTROL_ROUTES = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/faults", admin(get_faults), methods=["GET"]),
    Route("/_emulator/faults", admin(set_faults), methods=["POST"]),
    Route("/_emulator/faults", admin(clear_faults), methods=["DELETE"]),
]
