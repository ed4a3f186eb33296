"""One Core API call, with timeouts, bounded retries and error mapping.

A `CoreApiClient` lives for one provider method (the provider object is
pickled, so it never holds a client or a token). Connect errors, timeouts,
dropped connections, 429 and 5xx are retried with exponential backoff and
jitter, bounded by `max_attempts` and `max_elapsed`; every other 4xx is final,
except a 401 "expired", which gets a new token from the credentials once.
An error answer becomes a `CoreApiResponseError` whose message quotes the Core
API's own `message` verbatim, prefixed with the plugin id and the step; its class
follows the dialect's error mapping (`ErrorKind`), not the bare status code.
Proxies from the environment are ignored (`trust_env=False`); only
`TransportSettings.proxy` sets one.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from plexica_infra.contract import ErrorKind, classify_guide, error_fields
from plexica_infra.providers._auth import Credentials, StaticCredentials
from plexica_infra.providers._config import TransportSettings, ssl_context, tls_verify
from plexica_infra.providers._exceptions import (
    CoreApiAuthError,
    CoreApiConfigError,
    CoreApiConflictError,
    CoreApiNotFoundError,
    CoreApiResponseError,
    CoreApiTimeoutError,
    CoreApiUnreachableError,
)

__all__ = ["USER_AGENT", "Classifier", "CoreApiClient", "backoff_delay", "never_connected", "response_error"]

Classifier = Callable[[int, str, str], ErrorKind]

USER_AGENT = "plexica-infra"
_EXCERPT_CHARS = 500
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
#: Failures before any byte of the request reached the Core API.
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)
_KIND_ERRORS: dict[ErrorKind, type[CoreApiResponseError]] = {
    ErrorKind.AUTH: CoreApiAuthError,
    ErrorKind.AUTH_EXPIRED: CoreApiAuthError,
    ErrorKind.NOT_FOUND: CoreApiNotFoundError,
    ErrorKind.ALREADY: CoreApiConflictError,
}


def backoff_delay(attempt: int, settings: TransportSettings, retry_after: float | None = None) -> float:
    """Delay before try `attempt + 1`: doubling, capped, jittered over [half, all] of it.

    A `Retry-After` from the server raises the delay (never past `max_backoff`).
    """
    ceiling = min(settings.max_backoff, settings.initial_backoff * 2 ** (attempt - 1))
    delay: float = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.max_backoff))
    return delay


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _decoded(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def response_error(
    response: httpx.Response,
    *,
    plugin_id: str,
    step: str,
    attempts: int = 1,
    note: str = "",
    classify: Classifier = classify_guide,
) -> CoreApiResponseError:
    """The error for an error answer, quoting the Core API's `message` as it sent it."""
    body = _decoded(response)
    code, message = error_fields(body)
    if not message:
        message = response.text.strip()[:_EXCERPT_CHARS] or "<empty body>"
    kind = _KIND_ERRORS.get(classify(response.status_code, code, message), CoreApiResponseError)
    text = f"{plugin_id}: {step}: Core API answered {response.status_code}: {message}{note}"
    return kind(
        text,
        plugin_id=plugin_id,
        step=step,
        status_code=response.status_code,
        error=code,
        body=body,
        attempts=attempts,
    )


class CoreApiClient:
    """Authenticated calls to one Core API for one plugin; use as a context manager."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | str,
        *,
        plugin_id: str,
        insecure_skip_tls_verify: bool = False,
        settings: TransportSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        classify: Classifier = classify_guide,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(credentials, str):
            if not credentials:
                raise CoreApiConfigError(
                    f"{plugin_id}: the Core API token is empty", plugin_id=plugin_id, step="configure"
                )
            credentials = StaticCredentials(credentials)
        self.credentials = credentials
        self.classify = classify
        self.base_url = base_url.rstrip("/")
        self.plugin_id = plugin_id
        self.settings = settings or TransportSettings()
        self._sleep = sleep
        try:
            verify = tls_verify(self.base_url, insecure_skip_tls_verify)
        except CoreApiConfigError as exc:
            raise CoreApiConfigError(f"{plugin_id}: {exc}", plugin_id=plugin_id, step="configure") from exc
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            timeout=self.settings.timeout(),
            verify=ssl_context(verify),
            follow_redirects=False,
            trust_env=False,
            proxy=self.settings.proxy,
        )

    def __enter__(self) -> CoreApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        step: str,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        lifecycle: bool = False,
    ) -> httpx.Response:
        """Send one call, retrying transient failures; returns a 2xx/3xx answer or raises.

        `lifecycle=True` allows the longer read timeout of install and update.
        """
        settings = self.settings
        timeout = settings.timeout(lifecycle=lifecycle)
        started = time.monotonic()
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                auth = {"Authorization": f"Bearer {self.credentials.bearer()}"}
                response = self._http.request(
                    method, path, json=json_body, params=params, timeout=timeout, headers=auth
                )
            except _RETRYABLE_ERRORS as exc:
                if _tls_failure(exc):
                    raise CoreApiUnreachableError(
                        f"{self.plugin_id}: {step}: TLS verification of {self.base_url} failed: "
                        f"{exc}; fix the certificate (insecure_skip_tls_verify is only for a local URL)",
                        plugin_id=self.plugin_id,
                        step=step,
                        attempts=attempt,
                    ) from exc
                failure: httpx.Response | httpx.HTTPError = exc
            except httpx.HTTPError as exc:
                raise CoreApiUnreachableError(
                    f"{self.plugin_id}: {step}: cannot call the Core API at {self.base_url}: "
                    f"{type(exc).__name__}: {exc}",
                    plugin_id=self.plugin_id,
                    step=step,
                    attempts=attempt,
                ) from exc
            else:
                if response.status_code < 400:
                    return response
                code, message = error_fields(_decoded(response))
                kind = self.classify(response.status_code, code, message)
                if kind is ErrorKind.AUTH_EXPIRED and not refreshed and self.credentials.refresh():
                    refreshed = True  # once per call: a second "expired" is a real problem
                    attempt -= 1
                    continue
                if kind is not ErrorKind.UNAVAILABLE:
                    raise response_error(
                        response, plugin_id=self.plugin_id, step=step, attempts=attempt, classify=self.classify
                    )
                failure = response
                retry_after = _retry_after(response)
            elapsed = time.monotonic() - started
            delay = backoff_delay(attempt, settings, retry_after)
            # Only a refused or unanswered connect says "unreachable"; a connection dropped after
            # the request went out is a Core API misbehaving, and gets the full budget.
            unreachable = isinstance(failure, _CONNECT_ERRORS) and settings.unreachable_attempts is not None
            if (
                attempt >= settings.max_attempts
                or elapsed + delay > settings.max_elapsed
                or (unreachable and attempt >= (settings.unreachable_attempts or 0))
            ):
                raise self._give_up(failure, step, attempt, elapsed)
            self._sleep(delay)

    def _give_up(
        self, failure: httpx.Response | httpx.HTTPError, step: str, attempts: int, elapsed: float
    ) -> Exception:
        note = f" (gave up after {attempts} attempt(s) in {elapsed:.1f} s)"
        if isinstance(failure, httpx.Response):
            return response_error(
                failure, plugin_id=self.plugin_id, step=step, attempts=attempts, note=note, classify=self.classify
            )
        if isinstance(failure, httpx.TimeoutException):
            kind: type[CoreApiUnreachableError] = CoreApiTimeoutError
            what = f"the Core API at {self.base_url} did not answer in time ({type(failure).__name__})"
        else:
            kind = CoreApiUnreachableError
            what = (
                f"cannot reach the Core API at {self.base_url}: "
                f"{type(failure).__name__}: {str(failure) or 'closed without a response'}"
            )
        error = kind(
            f"{self.plugin_id}: {step}: {what}{note}",
            plugin_id=self.plugin_id,
            step=step,
            attempts=attempts,
        )
        error.__cause__ = failure
        return error

    def json(
        self,
        method: str,
        path: str,
        *,
        step: str,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        lifecycle: bool = False,
    ) -> dict[str, Any]:
        """`request`, then the answer's JSON object."""
        response = self.request(method, path, step=step, json_body=json_body, params=params, lifecycle=lifecycle)
        body = _decoded(response)
        if not body and response.content:
            raise CoreApiResponseError(
                f"{self.plugin_id}: {step}: Core API answered {response.status_code} with a body "
                f"that is not a JSON object: {response.text[:_EXCERPT_CHARS]}",
                plugin_id=self.plugin_id,
                step=step,
                status_code=response.status_code,
            )
        return body


def never_connected(error: BaseException) -> bool:
    """True when `error` (or its cause) is a connect that was refused or never answered."""
    cause = error.__cause__ if error.__cause__ is not None else error
    return isinstance(cause, _CONNECT_ERRORS)


def _tls_failure(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc)
