"""The auth router: the admin bearer-token guard and the client-credentials token endpoint.

Admin routes need `Authorization: Bearer <token>`: the static admin token, or a live
token issued by `POST /realms/master/protocol/openid-connect/token` (`_tokens.py`).
In the guide dialect a missing token is 401 `unauthorized`, a wrong one 403 `forbidden`,
an expired one 401 `token_expired`; plexica-v1 answers as the real Core API does
(a write without a bearer header is 403 CSRF_TOKEN_MISSING first).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plexica_infra.contract import GUIDE_TOKEN_EXPIRED, V1_AUTH_TOKEN_EXPIRED
from plexica_infra.core_api._errors import ApiError, V1ApiError
from plexica_infra.core_api._state import EmulatorState, state_of
from plexica_infra.core_api._tokens import TOKEN_PATH, TokenCheck

__all__ = ["AUTH_ROUTES", "Handler", "admin", "issue_token"]

_log = logging.getLogger("plexica.core_api")

Handler = Callable[[Request], Awaitable[Response]]
_WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _auth_error(state: EmulatorState, status: int, guide_code: str, v1_code: str, message: str) -> ApiError:
    headers = {"WWW-Authenticate": 'Bearer realm="plexica-core-api"'} if status == 401 else None
    if state.v1:
        return V1ApiError(status, v1_code, message, headers=headers)
    return ApiError(status, guide_code, message, headers=headers)


def _authorize(state: EmulatorState, request: Request) -> None:
    """Return when the request carries an accepted bearer token; raise the dialect's error."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        if state.v1 and request.method in _WRITE_METHODS:
            # index.ts: a global hook refuses writes without a bearer header first.
            raise V1ApiError(403, "CSRF_TOKEN_MISSING", "CSRF token missing")
        raise _auth_error(
            state,
            401,
            "unauthorized",
            "AUTH_TOKEN_MISSING",
            "missing bearer token: send 'Authorization: Bearer <token>'",
        )
    presented = credentials.strip()
    if state.is_admin_token(presented):
        return
    verdict = state.tokens.check(presented) if state.tokens is not None else TokenCheck.INVALID
    if verdict is TokenCheck.VALID:
        return
    if verdict is TokenCheck.EXPIRED:
        raise _auth_error(state, 401, GUIDE_TOKEN_EXPIRED, V1_AUTH_TOKEN_EXPIRED, "the bearer token has expired")
    if state.v1:
        raise _auth_error(state, 401, "", "AUTH_TOKEN_INVALID", "the bearer token is not valid")
    raise ApiError(403, "forbidden", "the bearer token is not valid for this Core API")


def admin(handler: Handler) -> Handler:
    """`handler`, behind the bearer-token check."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        _authorize(state_of(request), request)
        return await handler(request)

    return guarded


async def issue_token(request: Request) -> Response:
    """The OAuth2 client-credentials grant (RFC 6749 §4.4)."""
    tokens = state_of(request).tokens
    # §4.4.2: application/x-www-form-urlencoded (parsed here: no multipart needed).
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=10)
    grant, client_id, secret = (form.get(key, [""])[0] for key in ("grant_type", "client_id", "client_secret"))
    if grant != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    issued = tokens.issue(client_id, secret) if tokens is not None else None
    if tokens is None or issued is None:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    _log.info("issued a token to client %s for %.0f s", client_id, tokens.ttl)
    return JSONResponse({"access_token": issued, "token_type": "Bearer", "expires_in": int(tokens.ttl)})


AUTH_ROUTES = [Route(TOKEN_PATH, issue_token, methods=["POST"])]
