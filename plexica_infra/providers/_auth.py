"""Credentials for the Core API: a static bearer token, or OAuth2 client credentials.

`static` sends the token it is given. `client-credentials` (what the real Core API's
Keycloak wants: a `super_admin` token of realm `master`, valid for minutes) posts
`grant_type=client_credentials` to the token URL, caches the answer in this process's
memory only, fetches a new one shortly before it expires, and once more when the Core
API answers 401 "expired". Tokens and the client secret are never stored, logged or
quoted in an error: an error names the token URL, the status and the OAuth2 error code.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx
from pydantic import ValidationError

from plexica_infra.contract import TokenAnswer
from plexica_infra.providers._config import TransportSettings, ssl_context, tls_verify
from plexica_infra.providers._exceptions import (
    CoreApiAuthError,
    CoreApiConfigError,
    CoreApiResponseError,
    CoreApiUnreachableError,
)

__all__ = [
    "AUTH_MODES",
    "TOKEN_FETCH_ATTEMPTS",
    "TOKEN_REFRESH_MARGIN_SECONDS",
    "AuthMode",
    "ClientCredentials",
    "Credentials",
    "StaticCredentials",
    "clear_token_cache",
]

AuthMode = Literal["static", "client-credentials"]
AUTH_MODES: tuple[AuthMode, ...] = ("static", "client-credentials")
#: A cached token is replaced when less than this (or a fifth of its lifetime, if
#: shorter) is left, so a call never leaves with a token about to expire.
TOKEN_REFRESH_MARGIN_SECONDS = 10.0
#: Tries per token fetch: connect errors, timeouts and 5xx are retried.
TOKEN_FETCH_ATTEMPTS = 3
_TOKEN_FETCH_BACKOFF_SECONDS = 0.5


class Credentials(Protocol):
    def bearer(self) -> str:
        """The token to send now."""
        ...

    def refresh(self) -> bool:
        """Get a new token after a 401 "expired"; False when there is nothing to refresh."""
        ...


@dataclass(frozen=True)
class StaticCredentials:
    token: str

    def __repr__(self) -> str:
        return "StaticCredentials(token=<redacted>)"

    def bearer(self) -> str:
        return self.token

    def refresh(self) -> bool:
        return False


@dataclass
class _Cached:
    token: str
    expires_at: float
    lifetime: float


_CACHE: dict[tuple[str, str, str], _Cached] = {}
_LOCK = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests; a new process starts empty anyway)."""
    with _LOCK:
        _CACHE.clear()


class ClientCredentials:
    """OAuth2 client-credentials grant against `token_url`, cached per process."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        plugin_id: str,
        step: str,
        scope: str = "",
        insecure_skip_tls_verify: bool = False,
        settings: TransportSettings | None = None,
    ) -> None:
        where = f"{plugin_id}: {step}"
        if not client_id:
            raise CoreApiConfigError(
                f"{where}: client-credentials auth needs a client id", plugin_id=plugin_id, step=step
            )
        if not client_secret:
            raise CoreApiConfigError(
                f"{where}: client-credentials auth needs a client secret (plexica:coreApiClientSecret)",
                plugin_id=plugin_id,
                step=step,
            )
        try:
            self._verify = tls_verify(token_url, insecure_skip_tls_verify, what="token URL")
        except CoreApiConfigError as exc:
            raise CoreApiConfigError(f"{where}: {exc}", plugin_id=plugin_id, step=step) from exc
        self.token_url = token_url
        self.client_id = client_id
        self.scope = scope
        self.plugin_id = plugin_id
        self.step = step
        self.settings = settings or TransportSettings()
        self._secret = client_secret
        digest = hashlib.sha256(client_secret.encode()).hexdigest()
        self._key = (token_url, client_id, digest)

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, secret=<redacted>)"

    def __getstate__(self) -> dict[str, object]:
        raise TypeError("ClientCredentials holds a secret and is never pickled")

    def bearer(self) -> str:
        now = time.monotonic()
        with _LOCK:
            cached = _CACHE.get(self._key)
            if cached is not None and cached.expires_at - now > min(TOKEN_REFRESH_MARGIN_SECONDS, cached.lifetime / 5):
                return cached.token
        return self._fetch()

    def refresh(self) -> bool:
        self._fetch()
        return True

    def _fetch(self) -> str:
        where = f"{self.plugin_id}: {self.step}: token endpoint {self.token_url}"
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret}
        if self.scope:
            form["scope"] = self.scope
        failure = ""
        for attempt in range(1, TOKEN_FETCH_ATTEMPTS + 1):
            started = time.monotonic()
            try:
                with httpx.Client(
                    timeout=self.settings.timeout(),
                    verify=ssl_context(self._verify),
                    trust_env=False,
                    proxy=self.settings.proxy,
                    follow_redirects=False,
                ) as http:
                    response = http.post(self.token_url, data=form, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__}"
            else:
                if response.status_code < 400:
                    return self._store(response, where, started)
                if response.status_code < 500 and response.status_code != 429:
                    raise CoreApiAuthError(
                        f"{where} answered {response.status_code}: {_oauth_error(response)}; check the client id "
                        "and the client secret (plexica:coreApiClientId, plexica:coreApiClientSecret)",
                        plugin_id=self.plugin_id,
                        step=self.step,
                        status_code=response.status_code,
                        error=_oauth_error(response),
                    )
                failure = f"answered {response.status_code}"
            if attempt < TOKEN_FETCH_ATTEMPTS:
                time.sleep(_TOKEN_FETCH_BACKOFF_SECONDS * attempt)
        raise CoreApiUnreachableError(
            f"{where}: no token after {TOKEN_FETCH_ATTEMPTS} attempts ({failure})",
            plugin_id=self.plugin_id,
            step=self.step,
            attempts=TOKEN_FETCH_ATTEMPTS,
        )

    def _store(self, response: httpx.Response, where: str, started: float) -> str:
        try:
            answer = TokenAnswer.model_validate_json(response.content)
        except ValidationError as exc:
            missing = ", ".join(".".join(str(p) for p in e["loc"]) or "<body>" for e in exc.errors())
            raise CoreApiResponseError(
                f"{where} answered {response.status_code} without a usable token (missing or invalid: {missing})",
                plugin_id=self.plugin_id,
                step=self.step,
                status_code=response.status_code,
            ) from None
        if answer.token_type.lower() != "bearer":
            raise CoreApiResponseError(
                f"{where} issued a {answer.token_type!r} token; only bearer tokens are supported",
                plugin_id=self.plugin_id,
                step=self.step,
                status_code=response.status_code,
            )
        with _LOCK:
            _CACHE[self._key] = _Cached(answer.access_token, started + answer.expires_in, float(answer.expires_in))
        return answer.access_token


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth2 `error` code only (RFC 6749 §5.2): descriptions may echo what was sent."""
    try:
        body = response.json()
    except ValueError:
        return "<no OAuth2 error code>"
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, dict):
        code = code.get("code")
    return code if isinstance(code, str) and code.isascii() and len(code) < 80 else "<no OAuth2 error code>"
