"""The Core API emulator: plugin lifecycle, service registry and gateway (Starlette).

Admin routes need `Authorization: Bearer <token>` (401 without one, 403 with a
wrong one); the gateway and `/_emulator/health` do not. Every error is JSON
`{"error": code, "message": sentence, ...more fields}`. A plugin is returned as
`{"id", "name", "version", "state", "manifest", "createdAt", "updatedAt",
"stateChangedAt", "lastError"}`.

Plugins (the lifecycle is `plexica_infra.contract.GUIDE_LIFECYCLE`, the guide's diagram):

    POST   /api/v1/plugins               body: the manifest (`id`, `name`, `version`, anything else)
                                         201 REGISTERED; 409 plugin_exists unless UNINSTALLED
    GET    /api/v1/plugins[?state=S]     200 {"plugins": [...]}
    GET    /api/v1/plugins/{id}          200 plugin; 404 plugin_not_found
    POST   /api/v1/plugins/{id}/install  REGISTERED -> INSTALLING -> INSTALLED once every registered
                                         endpoint answers 200 on liveness then readiness (api.liveness /
                                         api.readiness, default /health/live, /health/ready; 3 tries
                                         each); else back to REGISTERED and 424 health_check_failed
                                         (or no_endpoints) naming each endpoint and its answer
    POST   /api/v1/plugins/{id}/enable   INSTALLED|DISABLED -> ACTIVE
    POST   /api/v1/plugins/{id}/disable  ACTIVE -> DISABLED
    DELETE /api/v1/plugins/{id}          DISABLED -> UNINSTALLING -> UNINSTALLED
    POST   /api/v1/plugins/{id}/update   body: the new manifest (same id). The hot-swap: in INSTALLED
                                         or ACTIVE it health-checks the registered endpoints with the
                                         new manifest's probe paths, then switches version and
                                         manifest, keeping the state (424 and no change on failure);
                                         in REGISTERED or DISABLED it swaps without a check.
                                         200 plugin + "previousVersion"; the same manifest is a no-op.

A request the current state does not allow is 409 invalid_transition with
`currentState` and `allowedTransitions` ([{"action", "method", "path", "to"}]).

Service registry (keyed by plugin id and service name; the endpoints of all of
a plugin's services are the ones install, update and the gateway use):

    POST   /api/v1/service-registry      body {"pluginId", "serviceName", "endpoints": [url, ...]}
                                         upsert: 201 created, 200 replaced or unchanged
    GET    /api/v1/service-registry/services[?pluginId=id]   200 {"services": [...]}
    DELETE /api/v1/service-registry/{pluginId}               every service of the plugin
    DELETE /api/v1/service-registry/{pluginId}/{serviceName} one service
                                         200 {"removed": [...]}; 404 service_not_found

Gateway (public, `_gateway.py`): `ANY /api/plugins/{id}/{path}` proxies to
`<endpoint>/{path}` (query and body kept, round-robin over the endpoints) while the
plugin is ACTIVE, without the caller's credentials or hop-by-hop headers; any other
plugin is the same 404 not_found as an unknown route; 413 over the body limit, 400
for a path with %00 or dot segments, 502 bad_gateway when the endpoint fails.
`X-Plexica-Upstream` names the endpoint used only for a caller with the admin token.
Service endpoints must be allowed upstreams (400 invalid_endpoint), and new
endpoints of an ACTIVE plugin must pass the health check before they take traffic
(424, registry unchanged).

Emulator controls: `GET /_emulator/health` (public), and with the token
`GET|POST|DELETE /_emulator/faults` (see `FaultSettings`).

The app is routers over one `EmulatorState` (`_state.py`): auth (`_auth.py`), plugins
(`_plugins.py`, or `_v1_plugins.py` for plexica-v1), service registry (`_registry.py`,
`_v1_registry.py`), gateway (`_gateway.py`) and controls (`_controls.py`); the
lifecycle routes are generated from the dialect's transitions table (`_routing.py`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from plexica_infra.contract import DEFAULT_DIALECT, DIALECTS, DialectName
from plexica_infra.core_api._auth import AUTH_ROUTES
from plexica_infra.core_api._controls import CONTROL_ROUTES
from plexica_infra.core_api._errors import ApiError, error_response
from plexica_infra.core_api._faults import FaultInjector
from plexica_infra.core_api._gateway import GATEWAY_ROUTES
from plexica_infra.core_api._plugins import PLUGIN_ROUTES
from plexica_infra.core_api._registry import REGISTRY_ROUTES
from plexica_infra.core_api._state import DEFAULT_MAX_BODY_BYTES, EmulatorState
from plexica_infra.core_api._store import Store
from plexica_infra.core_api._tokens import TokenIssuer
from plexica_infra.core_api._upstreams import UpstreamPolicy
from plexica_infra.core_api._v1_plugins import V1_PLUGIN_ROUTES
from plexica_infra.core_api._v1_registry import V1_REGISTRY_ROUTES

__all__ = ["create_app"]

_log = logging.getLogger("plexica.core_api")

#: The admin routers of each dialect.
_ADMIN_ROUTES = {
    "guide": [*PLUGIN_ROUTES, *REGISTRY_ROUTES],
    "plexica-v1": [*V1_PLUGIN_ROUTES, *V1_REGISTRY_ROUTES],
}


def create_app(
    *,
    token: str,
    store: Store,
    dialect: DialectName = DEFAULT_DIALECT,
    tokens: TokenIssuer | None = None,
    upstream_policy: UpstreamPolicy | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ASGIApp:
    """The emulator as an ASGI app; `store` is owned (closed) by the caller.

    `dialect` picks the admin API (`guide`, or the real Core API's `plexica-v1`);
    `tokens` adds the client-credentials token endpoint, whose short-lived tokens are
    accepted next to the static admin `token`. `upstream_policy` says where service
    endpoints may point and `max_body_bytes` bounds gateway requests (`_gateway`).
    """
    if not token:
        raise ValueError("the Core API token must not be empty")
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; accepted: {', '.join(DIALECTS)}")
    state = EmulatorState(
        admin_token=token.encode(),
        store=store,
        dialect=dialect,
        policy=upstream_policy or UpstreamPolicy(),
        tokens=tokens,
        max_body_bytes=max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for plugin_id, source, target in store.recover_interrupted():
            _log.warning("%s: %s -> %s (left over from a previous run)", plugin_id, source, target)
        state.open_clients()
        try:
            yield
        finally:
            await state.close_clients()

    app = Starlette(
        routes=[*CONTROL_ROUTES, *AUTH_ROUTES, *_ADMIN_ROUTES[dialect], *GATEWAY_ROUTES],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.emulator = state
    return FaultInjector(app, state.faults)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = {
        404: f"no route for {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        message,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    _log.error("unexpected error on %s %s: %r", request.method, request.url.path, exc)
    return error_response(500, "internal_error", f"the emulator failed: {type(exc).__name__}: {exc}")
