"""One Core API call, with timeouts, bounded retries and error mapping.

A `CoreApiClient` lives for one provider method (the provider object is
pickled, so it never holds a client or a token). Connect errors, timeouts,
dropped connections, 429 and 5xx are retried with exponential backoff and
jitter, bounded by `max_attempts` and `max_elapsed`; every other 4xx is final.
An error answer becomes a `CoreApiResponseError` whose message quotes the Core
API's own `message` verbatim, prefixed with the plugin id and the step.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

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

__all__ = ["USER_AGENT", "CoreApiClient", "backoff_delay", "response_error"]

USER_AGENT = "plexica-infra"
_EXCERPT_CHARS = 500
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_STATUS_ERRORS: dict[int, type[CoreApiResponseError]] = {
    401: CoreApiAuthError,
    403: CoreApiAuthError,
    404: CoreApiNotFoundError,
    409: CoreApiConflictError,
}


def _retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


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
    response: httpx.Response, *, plugin_id: str, step: str, attempts: int = 1, note: str = ""
) -> CoreApiResponseError:
    """The error for an error answer, quoting the Core API's `message` as it sent it."""
    body = _decoded(response)
    message = body.get("message")
    if not isinstance(message, str) or not message:
        message = response.text.strip()[:_EXCERPT_CHARS] or "<empty body>"
    error = body.get("error")
    kind = _STATUS_ERRORS.get(response.status_code, CoreApiResponseError)
    text = f"{plugin_id}: {step}: Core API answered {response.status_code}: {message}{note}"
    return kind(
        text,
        plugin_id=plugin_id,
        step=step,
        status_code=response.status_code,
        error=error if isinstance(error, str) else "",
        body=body,
        attempts=attempts,
    )


class CoreApiClient:
    """Authenticated calls to one Core API for one plugin; use as a context manager."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        plugin_id: str,
        insecure_skip_tls_verify: bool = False,
        settings: TransportSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise CoreApiConfigError(f"{plugin_id}: the Core API token is empty", plugin_id=plugin_id, step="configure")
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
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=self.settings.timeout(),
            verify=ssl_context(verify),
            follow_redirects=False,
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
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._http.request(method, path, json=json_body, params=params, timeout=timeout)
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
                if not _retryable_status(response.status_code):
                    raise response_error(response, plugin_id=self.plugin_id, step=step, attempts=attempt)
                failure = response
                retry_after = _retry_after(response)
            elapsed = time.monotonic() - started
            delay = backoff_delay(attempt, settings, retry_after)
            if attempt >= settings.max_attempts or elapsed + delay > settings.max_elapsed:
                raise self._give_up(failure, step, attempt, elapsed)
            self._sleep(delay)

    def _give_up(
        self, failure: httpx.Response | httpx.HTTPError, step: str, attempts: int, elapsed: float
    ) -> Exception:
        note = f" (gave up after {attempts} attempt(s) in {elapsed:.1f} s)"
        if isinstance(failure, httpx.Response):
            return response_error(failure, plugin_id=self.plugin_id, step=step, attempts=attempts, note=note)
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


def _tls_failure(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc)
