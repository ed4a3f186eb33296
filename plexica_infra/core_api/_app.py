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
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from plexica_infra.contract import (
    DEFAULT_DIALECT,
    DIALECTS,
    GUIDE_TOKEN_EXPIRED,
    UPDATABLE_STATES,
    V1_AUTH_TOKEN_EXPIRED,
    DialectName,
    LifecycleAction,
    LifecycleState,
    allowed_transitions,
)
from plexica_infra.core_api._errors import ApiError, V1ApiError, error_response
from plexica_infra.core_api._faults import FaultInjector, Faults
from plexica_infra.core_api._gateway import (
    DEFAULT_MAX_BODY_BYTES,
    GATEWAY_PATHS,
    GATEWAY_TIMEOUT_SECONDS,
    Gateway,
    UpstreamPolicy,
    admit_endpoints,
    check_before_switch,
)
from plexica_infra.core_api._health import ProbeOutcome, check_endpoints, probe_paths
from plexica_infra.core_api._models import (
    FaultSettings,
    ManifestHead,
    ServiceRegistrationBody,
    parse,
)
from plexica_infra.core_api._store import PluginExistsError, PluginRecord, Store
from plexica_infra.core_api._tokens import TOKEN_PATH, TokenCheck, TokenIssuer
from plexica_infra.core_api._v1 import v1_routes

__all__ = ["GATEWAY_TIMEOUT_SECONDS", "create_app"]

_log = logging.getLogger("plexica.core_api")

Handler = Callable[[Request], Awaitable[Response]]


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
    v1 = dialect == "plexica-v1"
    expected = token.encode()
    faults = Faults()
    clients: dict[str, httpx.AsyncClient] = {}
    policy = upstream_policy or UpstreamPolicy()

    def client() -> httpx.AsyncClient:
        return clients["http"]

    gateway = Gateway(store, client, lambda: clients["fresh"], expected, max_body_bytes=max_body_bytes)

    async def admit_service(plugin_id: str, service_name: str, endpoints: list[str]) -> None:
        """Refuse endpoints outside the upstream policy (400), and for an ACTIVE plugin new
        endpoints that are not healthy (424): a registry change takes traffic at once."""
        if (refusal := admit_endpoints(policy, endpoints)) is not None:
            raise ApiError(400, "invalid_endpoint", refusal, pluginId=plugin_id)
        outcomes = await check_before_switch(client(), store, plugin_id, service_name, endpoints)
        if not all(outcome.ok for outcome in outcomes):
            raise health_failure(plugin_id, "registry change", outcomes, "the service registry is unchanged")

    def auth_error(status: int, guide_code: str, v1_code: str, message: str) -> ApiError:
        headers = {"WWW-Authenticate": 'Bearer realm="plexica-core-api"'} if status == 401 else None
        if v1:
            return V1ApiError(status, v1_code, message, headers=headers)
        return ApiError(status, guide_code, message, headers=headers)

    def admin(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                if v1 and request.method in ("POST", "PUT", "PATCH", "DELETE"):
                    # index.ts: a global hook refuses writes without a bearer header first.
                    raise V1ApiError(403, "CSRF_TOKEN_MISSING", "CSRF token missing")
                raise auth_error(
                    401,
                    "unauthorized",
                    "AUTH_TOKEN_MISSING",
                    "missing bearer token: send 'Authorization: Bearer <token>'",
                )
            presented = credentials.strip()
            if hmac.compare_digest(presented.encode(), expected):
                return await handler(request)
            verdict = tokens.check(presented) if tokens is not None else TokenCheck.INVALID
            if verdict is TokenCheck.VALID:
                return await handler(request)
            if verdict is TokenCheck.EXPIRED:
                raise auth_error(401, GUIDE_TOKEN_EXPIRED, V1_AUTH_TOKEN_EXPIRED, "the bearer token has expired")
            if v1:
                raise auth_error(401, "", "AUTH_TOKEN_INVALID", "the bearer token is not valid")
            raise ApiError(403, "forbidden", "the bearer token is not valid for this Core API")

        return guarded

    async def issue_token(request: Request) -> Response:
        # RFC 6749 §4.4.2: application/x-www-form-urlencoded (parsed here: no multipart needed).
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=10)
        grant, client_id, secret = (form.get(key, [""])[0] for key in ("grant_type", "client_id", "client_secret"))
        if grant != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        issued = tokens.issue(client_id, secret) if tokens is not None else None
        if issued is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        assert tokens is not None
        _log.info("issued a token to client %s for %.0f s", client_id, tokens.ttl)
        return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": int(tokens.ttl)})

    # Plugins -----------------------------------------------------------------------------------

    def require_plugin(plugin_id: str) -> PluginRecord:
        plugin = store.get_plugin(plugin_id)
        if plugin is None:
            raise ApiError(
                404,
                "plugin_not_found",
                f"plugin {plugin_id} is not registered (POST /api/v1/plugins first)",
                pluginId=plugin_id,
            )
        return plugin

    async def register(request: Request) -> Response:
        manifest = await _json_body(request)
        head = parse(ManifestHead, manifest, "plugin manifest")
        try:
            plugin = store.register(manifest)
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
        return JSONResponse({"plugins": [p.to_json() for p in store.list_plugins(state)]})

    async def get_plugin(request: Request) -> Response:
        return JSONResponse(require_plugin(request.path_params["plugin_id"]).to_json())

    def health_failure(plugin_id: str, verb: str, outcomes: list[ProbeOutcome], consequence: str) -> ApiError:
        failed = [outcome for outcome in outcomes if not outcome.ok]
        message = (
            f"{verb} of {plugin_id} failed: " + "; ".join(outcome.describe() for outcome in failed) + f"; {consequence}"
        )
        return ApiError(
            424,
            "health_check_failed",
            message,
            pluginId=plugin_id,
            checks=[outcome.to_json() for outcome in outcomes],
        )

    def no_endpoints(plugin_id: str, verb: str, consequence: str) -> ApiError:
        return ApiError(
            424,
            "no_endpoints",
            f"{verb} of {plugin_id} failed: no endpoint is registered for it in the service "
            f"registry (POST /api/v1/service-registry first); {consequence}",
            pluginId=plugin_id,
        )

    async def check_health(plugin_id: str, manifest: dict[str, Any], verb: str, consequence: str) -> None:
        endpoints = store.endpoints(plugin_id)
        if not endpoints:
            raise no_endpoints(plugin_id, verb, consequence)
        live_path, ready_path = probe_paths(manifest)
        outcomes = await check_endpoints(client(), endpoints, live_path, ready_path)
        if not all(outcome.ok for outcome in outcomes):
            raise health_failure(plugin_id, verb, outcomes, consequence)

    def move(plugin: PluginRecord, target: LifecycleState, action: str) -> PluginRecord:
        moved = store.transition(plugin.id, plugin.state, target)
        if moved is None:
            # Another request moved it between our read and our write.
            raise _invalid_transition(require_plugin(plugin.id), action)
        _log.info("%s: %s -> %s (%s)", plugin.id, plugin.state, target, action)
        return moved

    async def install(request: Request) -> Response:
        plugin = require_plugin(request.path_params["plugin_id"])
        if plugin.state is not LifecycleState.REGISTERED:
            raise _invalid_transition(plugin, LifecycleAction.INSTALL)
        installing = move(plugin, LifecycleState.INSTALLING, "install")
        consequence = "the plugin is back in REGISTERED"
        try:
            await check_health(plugin.id, plugin.manifest, "install", consequence)
        except ApiError as exc:
            store.transition(plugin.id, LifecycleState.INSTALLING, LifecycleState.REGISTERED, last_error=exc.message)
            _log.warning("%s: INSTALLING -> REGISTERED: %s", plugin.id, exc.message)
            exc.extra["currentState"] = LifecycleState.REGISTERED.value
            raise
        installed = move(installing, LifecycleState.INSTALLED, "install")
        return JSONResponse(installed.to_json())

    def simple_action(action: LifecycleAction) -> Handler:
        async def handler(request: Request) -> Response:
            plugin = require_plugin(request.path_params["plugin_id"])
            for transition in allowed_transitions(plugin.state):
                if transition.action is action:
                    moved = move(plugin, transition.target, action.value)
                    return JSONResponse(moved.to_json())
            raise _invalid_transition(plugin, action)

        return handler

    async def uninstall(request: Request) -> Response:
        plugin = require_plugin(request.path_params["plugin_id"])
        if plugin.state is not LifecycleState.DISABLED:
            raise _invalid_transition(plugin, LifecycleAction.UNINSTALL)
        uninstalling = move(plugin, LifecycleState.UNINSTALLING, "uninstall")
        # The gateway routes only ACTIVE plugins, so its routes are already gone;
        # the service registry belongs to the plugin's containers and is left to them.
        return JSONResponse(move(uninstalling, LifecycleState.UNINSTALLED, "uninstall").to_json())

    async def update(request: Request) -> Response:
        plugin_id = request.path_params["plugin_id"]
        manifest = await _json_body(request)
        head = parse(ManifestHead, manifest, "plugin manifest")
        if head.id != plugin_id:
            raise ApiError(
                400,
                "id_mismatch",
                f"the manifest's id {head.id!r} is not the plugin {plugin_id!r} being updated",
                pluginId=plugin_id,
            )
        plugin = require_plugin(plugin_id)
        if plugin.state not in UPDATABLE_STATES:
            raise _invalid_transition(plugin, "update")
        if plugin.manifest == manifest:
            return JSONResponse({**plugin.to_json(), "previousVersion": plugin.version})
        if plugin.state in (LifecycleState.INSTALLED, LifecycleState.ACTIVE):
            consequence = f"the plugin stays at version {plugin.version} and {plugin.state}"
            try:
                await check_health(plugin_id, manifest, "update", consequence)
            except ApiError as exc:
                store.set_last_error(plugin_id, exc.message)
                exc.extra["currentState"] = plugin.state.value
                _log.warning("%s: update to %s refused: %s", plugin_id, head.version, exc.message)
                raise
        updated = store.replace_manifest(plugin_id, plugin.state, manifest)
        if updated is None:
            raise _invalid_transition(require_plugin(plugin_id), "update")
        _log.info(
            "%s: version %s -> %s (state %s kept)",
            plugin_id,
            plugin.version,
            updated.version,
            updated.state,
        )
        return JSONResponse({**updated.to_json(), "previousVersion": plugin.version})

    # Service registry --------------------------------------------------------------------------

    async def register_service(request: Request) -> Response:
        body: ServiceRegistrationBody = parse(
            ServiceRegistrationBody, await _json_body(request), "service registration"
        )
        await admit_service(body.plugin_id, body.service_name, body.unique_endpoints())
        service, created = store.upsert_service(body.plugin_id, body.service_name, body.unique_endpoints())
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
        return JSONResponse({"services": [s.to_json() for s in store.list_services(plugin_id)]})

    async def deregister(request: Request) -> Response:
        plugin_id = request.path_params["plugin_id"]
        service_name = request.path_params.get("service_name")
        removed = store.delete_services(plugin_id, service_name)
        if not removed:
            what = (
                f"service {service_name} of plugin {plugin_id}"
                if service_name
                else (f"any service of plugin {plugin_id}")
            )
            raise ApiError(
                404,
                "service_not_found",
                f"the service registry has no {what}",
                pluginId=plugin_id,
                serviceName=service_name,
            )
        _log.info("%s: deregistered %s", plugin_id, ", ".join(s.service_name for s in removed))
        return JSONResponse({"removed": [s.to_json() for s in removed]})

    # Gateway -----------------------------------------------------------------------------------

    # Emulator controls -------------------------------------------------------------------------

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_faults(_: Request) -> Response:
        return JSONResponse(faults.to_json())

    async def set_faults(request: Request) -> Response:
        settings: FaultSettings = parse(FaultSettings, await _json_body(request), "fault plan")
        faults.replace(settings)
        _log.info("faults set: %s", json.dumps(faults.to_json(), sort_keys=True))
        return JSONResponse(faults.to_json())

    async def clear_faults(_: Request) -> Response:
        faults.clear()
        return JSONResponse(faults.to_json())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for plugin_id, source, target in store.recover_interrupted():
            _log.warning("%s: %s -> %s (left over from a previous run)", plugin_id, source, target)
        clients["http"] = httpx.AsyncClient(follow_redirects=False)
        # No keep-alive pool: every request on its own connection (the gateway's retry).
        clients["fresh"] = httpx.AsyncClient(follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0))
        try:
            yield
        finally:
            await clients.pop("http").aclose()
            await clients.pop("fresh").aclose()

    plugin = "/api/v1/plugins/{plugin_id}"
    every_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    controls = [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/faults", admin(get_faults), methods=["GET"]),
        Route("/_emulator/faults", admin(set_faults), methods=["POST"]),
        Route("/_emulator/faults", admin(clear_faults), methods=["DELETE"]),
        Route(TOKEN_PATH, issue_token, methods=["POST"]),
    ]
    gateway_routes = [
        *(Route(path, gateway.handle, methods=every_method) for path in GATEWAY_PATHS),
    ]
    guide_routes = [
        Route("/api/v1/plugins", admin(register), methods=["POST"]),
        Route("/api/v1/plugins", admin(list_plugins), methods=["GET"]),
        Route(plugin, admin(get_plugin), methods=["GET"]),
        Route(plugin, admin(uninstall), methods=["DELETE"]),
        Route(f"{plugin}/install", admin(install), methods=["POST"]),
        Route(f"{plugin}/enable", admin(simple_action(LifecycleAction.ENABLE)), methods=["POST"]),
        Route(f"{plugin}/disable", admin(simple_action(LifecycleAction.DISABLE)), methods=["POST"]),
        Route(f"{plugin}/update", admin(update), methods=["POST"]),
        Route("/api/v1/service-registry", admin(register_service), methods=["POST"]),
        Route("/api/v1/service-registry/services", admin(list_services), methods=["GET"]),
        Route("/api/v1/service-registry/{plugin_id}", admin(deregister), methods=["DELETE"]),
        Route(
            "/api/v1/service-registry/{plugin_id}/{service_name}",
            admin(deregister),
            methods=["DELETE"],
        ),
    ]
    admin_routes = v1_routes(store, admin, admit_service) if v1 else guide_routes
    app = Starlette(
        routes=[*controls, *admin_routes, *gateway_routes],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    return FaultInjector(app, faults)


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


def _invalid_transition(plugin: PluginRecord, requested: str) -> ApiError:
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


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the request body is not JSON: {exc}") from exc


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
