"""The emulator's gateway: `ANY /api/plugins/{id}/{path}` to an ACTIVE plugin's endpoints.

It is the `local` stack's front door and our reference of how a gateway should
behave, so it is written as one that faces the internet:

* Requests: hop-by-hop headers (RFC 9110 §7.6.1, and whatever `Connection` names)
  and credentials (`Authorization`, `Cookie`, `Proxy-Authorization`) never reach a
  plugin: the caller's admin token is not the plugin's business. A client's own
  `X-Forwarded-*` headers are replaced by ours.
* Bodies over `max_body_bytes` (default 10 MiB) are refused with 413 before they are
  held in memory: the declared length is checked first, the stream is counted.
* Paths are forwarded as the client encoded them; a path that decodes to a control
  character (`%00`) or a `.`/`..` segment is refused with 400.
* An unknown plugin and a plugin that is not ACTIVE get the same 404 as any unknown
  route: without auth, nobody learns which plugins exist or their state.
* A connection the upstream closes or resets before any answer (typically a pooled
  keep-alive connection of a pod shutting down under a rolling update, closed just as
  the request went out on it): an idempotent request (GET, HEAD, OPTIONS, PUT, DELETE;
  RFC 9110 §9.2.2) is sent once more on a fresh connection; POST and PATCH never are,
  since the upstream may have acted on them.
* No internal URL leaves in a header or an error: `X-Plexica-Upstream` names the
  upstream only to a caller presenting the admin token (tests watch a hot swap this
  way); 502 says which plugin failed, never where it runs.

Where service endpoints may point is `_upstreams.py`; a registry change for an ACTIVE
plugin is health-checked before it takes traffic (`_admission.py`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from urllib.parse import unquote

import httpx
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from plexica_infra.contract import LifecycleState
from plexica_infra.core_api._errors import ApiError, error_response
from plexica_infra.core_api._state import EmulatorState, state_of

__all__ = [
    "GATEWAY_PATHS",
    "GATEWAY_ROUTES",
    "GATEWAY_TIMEOUT_SECONDS",
    "RETRIED_METHODS",
    "UPSTREAM_HEADER",
    "proxy",
    "request_headers",
    "response_headers",
]

_log = logging.getLogger("plexica.core_api.gateway")

#: Upstream timeout of a proxied gateway request.
GATEWAY_TIMEOUT_SECONDS = 30.0
#: Methods the gateway may send twice: a repeat has the same effect as one request.
RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: How a connection closed or reset before the upstream's answer shows in httpx: raised by
#: `send` before a response head was read (a failure while reading the body is not retried).
_CLOSED_BEFORE_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
#: Names the endpoint that served a request, for admin callers only.
UPSTREAM_HEADER = "X-Plexica-Upstream"

#: RFC 9110 §7.6.1 hop-by-hop fields, plus those httpx/Starlette set themselves.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)
#: The caller's credentials for the platform, never a plugin's to see.
_CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
#: Set by the gateway itself; a client's values would be spoofed.
_FORWARDED = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"})
#: Internal routing details a plugin must not hand back to the client either.
_INTERNAL = frozenset({UPSTREAM_HEADER.lower()})


def _connection_listed(headers: Mapping[str, str]) -> set[str]:
    return {name.strip().lower() for name in headers.get("connection", "").split(",") if name.strip()}


def request_headers(headers: Mapping[str, str], *, client_host: str, scheme: str, host: str) -> dict[str, str]:
    """What a plugin receives: the client's headers minus hop-by-hop, credentials and
    spoofable forwarding fields, plus the gateway's own `X-Forwarded-*`."""
    dropped = _HOP_BY_HOP | _CREDENTIALS | _FORWARDED | _INTERNAL | _connection_listed(headers)
    kept = {name: value for name, value in headers.items() if name.lower() not in dropped}
    kept.update({"X-Forwarded-For": client_host, "X-Forwarded-Proto": scheme, "X-Forwarded-Host": host})
    return kept


def response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """What the client receives from a plugin's answer: no hop-by-hop, no internal fields."""
    dropped = _HOP_BY_HOP | _INTERNAL | _connection_listed(headers)
    return {name: value for name, value in headers.items() if name.lower() not in dropped}


# The gateway ------------------------------------------------------------------------------------


class _AnyPath(Convertor[str]):
    """Like Starlette's `path`, but also matching newlines, so a path holding an encoded
    CR or LF reaches the gateway (and its 400) instead of falling through to a 404."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("gatewaypath", _AnyPath())
#: The gateway's routes: the plugin's root and everything below it.
GATEWAY_PATHS = ("/api/plugins/{plugin_id}", "/api/plugins/{plugin_id}/{path:gatewaypath}")


def _not_found(request: Request) -> ApiError:
    """The one answer for an unknown plugin, a plugin that is not ACTIVE, and any unknown route."""
    return ApiError(404, "not_found", f"no route for {request.url.path}")


class _BodyTooLarge(Exception):
    pass


async def _limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _BodyTooLarge
    return bytes(body)


def _forwarded_path(request: Request, plugin_id: str) -> str:
    """The path after `/api/plugins/<id>` as the client encoded it; 400 when it decodes to a
    control character or a dot segment."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    text = raw.decode("latin-1").split("?", 1)[0]
    prefix = f"/api/plugins/{plugin_id}"
    rest = text[len(prefix) :] if text.startswith(prefix) else "/" + request.path_params.get("path", "")
    decoded = unquote(rest)
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in decoded) or any(
        segment in (".", "..") for segment in decoded.split("/")
    ):
        raise ApiError(
            400,
            "invalid_path",
            "the path holds a control character (such as %00) or a '.' or '..' segment",
        )
    return rest if rest.startswith("/") else f"/{rest}"


def _is_admin(state: EmulatorState, request: Request) -> bool:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and state.is_admin_token(credentials.strip())


async def proxy(request: Request) -> Response:
    """`ANY /api/plugins/{id}/{path}`: the request, forwarded to one of the plugin's endpoints."""
    state = state_of(request)
    plugin_id = request.path_params["plugin_id"]
    plugin = state.store.get_plugin(plugin_id)
    if plugin is None or plugin.state is not LifecycleState.ACTIVE:
        _log.debug("%s: not routable (%s)", plugin_id, plugin.state if plugin else "not registered")
        raise _not_found(request)
    path = _forwarded_path(request, plugin_id)
    try:
        body = await _limited_body(request, state.max_body_bytes)
    except _BodyTooLarge:
        return error_response(
            413, "payload_too_large", f"the request body is over the gateway's {state.max_body_bytes} byte limit"
        )
    endpoints = state.store.endpoints(plugin_id)
    if not endpoints:
        raise ApiError(503, "unavailable", f"plugin {plugin_id} has no instance to serve this request")
    counter = state.round_robin.setdefault(plugin_id, itertools.count())
    endpoint = endpoints[next(counter) % len(endpoints)]
    url = f"{endpoint}{path}"
    if request.url.query:
        url = f"{url}?{request.url.query}"
    client_host = request.client.host if request.client else ""
    headers = request_headers(
        request.headers, client_host=client_host, scheme=request.url.scheme, host=request.url.netloc
    )
    try:
        upstream = await _forward(state, plugin_id, request.method, url, headers, body)
    except httpx.HTTPError as exc:
        _log.warning("%s: upstream %s failed: %s: %s", plugin_id, endpoint, type(exc).__name__, exc)
        raise ApiError(502, "bad_gateway", f"plugin {plugin_id} did not answer", pluginId=plugin_id) from exc
    out = response_headers(upstream.headers)
    if _is_admin(state, request):
        out[UPSTREAM_HEADER] = endpoint
    return Response(upstream.content, status_code=upstream.status_code, headers=out)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: bytes
) -> httpx.Response:
    request = client.build_request(method, url, headers=headers, content=body, timeout=GATEWAY_TIMEOUT_SECONDS)
    return await client.send(request, stream=True)


async def _forward(
    state: EmulatorState, plugin_id: str, method: str, url: str, headers: dict[str, str], body: bytes
) -> httpx.Response:
    """The upstream's whole answer; an idempotent request whose connection was closed
    before any answer is sent once more on a fresh connection."""
    try:
        response = await _send(state.http, method, url, headers, body)
    except _CLOSED_BEFORE_ANSWER as exc:
        if method not in RETRIED_METHODS:
            raise
        _log.info(
            "%s: %s %s: connection closed before an answer (%s); retrying once on a fresh connection",
            plugin_id,
            method,
            url,
            type(exc).__name__,
        )
        response = await _send(state.fresh_http, method, url, headers, body)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


_EVERY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
#: The gateway router (public: no admin token).
GATEWAY_ROUTES = [Route(path, proxy, methods=_EVERY_METHOD) for path in GATEWAY_PATHS]
