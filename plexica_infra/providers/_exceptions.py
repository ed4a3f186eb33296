"""Errors of the Core API providers and the health gate.

Every failure is a `CoreApiError` (itself a `PlexicaError`), raised with
`raise ... from exc` so the cause stays attached. Each message starts with the
plugin id and the step, e.g. ``crm: install: Core API answered 409: ...``::

    PlexicaError
    └── CoreApiError                 any failure to drive a plugin through the Core API
        ├── CoreApiConfigError       an input is unusable: bad URL, TLS opt-out on a remote
        │                            URL, no token anywhere
        ├── CoreApiUnreachableError  no HTTP answer (connect error, dropped connection),
        │   │                        after the retry budget
        │   └── CoreApiTimeoutError  ... because the Core API did not answer in time
        ├── CoreApiResponseError     the Core API answered with an error status; the message
        │   │                        quotes its `message` verbatim
        │   ├── CoreApiAuthError     401 (no token) or 403 (wrong token)
        │   ├── CoreApiNotFoundError 404
        │   └── CoreApiConflictError 409, e.g. an invalid lifecycle transition
        ├── LifecycleConvergenceError the plugin did not settle in the wanted state within
        │                            the step budget (someone else keeps moving it)
        └── HealthGateError          an instance did not pass its health gate; carries the
            │                        last probe responses
            └── LatencyBudgetError   ... it answered, but its p95 latency is over budget
"""

from __future__ import annotations

from typing import Any

from plexica_infra.errors import PlexicaError

__all__ = [
    "CoreApiAuthError",
    "CoreApiConfigError",
    "CoreApiConflictError",
    "CoreApiError",
    "CoreApiNotFoundError",
    "CoreApiResponseError",
    "CoreApiTimeoutError",
    "CoreApiUnreachableError",
    "HealthGateError",
    "LatencyBudgetError",
    "LifecycleConvergenceError",
]


class CoreApiError(PlexicaError):
    """Base of every provider error; `plugin_id` and `step` say where it happened."""

    def __init__(self, message: str, *, plugin_id: str = "", step: str = "") -> None:
        super().__init__(message)
        self.plugin_id = plugin_id
        self.step = step


class CoreApiConfigError(CoreApiError):
    """An input or setting cannot work; the message names it and the fix."""


class CoreApiUnreachableError(CoreApiError):
    """The Core API gave no HTTP answer within the retry budget."""

    def __init__(self, message: str, *, plugin_id: str = "", step: str = "", attempts: int = 0) -> None:
        super().__init__(message, plugin_id=plugin_id, step=step)
        self.attempts = attempts


class CoreApiTimeoutError(CoreApiUnreachableError):
    """The Core API did not answer within the request timeout."""


class CoreApiResponseError(CoreApiError):
    """The Core API answered with an error status.

    `error` is its machine-readable code, `body` its decoded JSON body (or {}).
    """

    def __init__(
        self,
        message: str,
        *,
        plugin_id: str = "",
        step: str = "",
        status_code: int,
        error: str = "",
        body: dict[str, Any] | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, plugin_id=plugin_id, step=step)
        self.status_code = status_code
        self.error = error
        self.body = body or {}
        self.attempts = attempts


class CoreApiAuthError(CoreApiResponseError):
    """401: no bearer token was sent; 403: the token is wrong."""


class CoreApiNotFoundError(CoreApiResponseError):
    """404: the plugin or service is not known to the Core API."""


class CoreApiConflictError(CoreApiResponseError):
    """409: the request does not fit the plugin's current lifecycle state."""

    @property
    def current_state(self) -> str | None:
        state = self.body.get("currentState")
        return state if isinstance(state, str) else None


class LifecycleConvergenceError(CoreApiError):
    """The plugin did not settle in the wanted lifecycle state."""


class HealthGateError(CoreApiError):
    """An instance failed its health gate; `last_responses` are the probes that decided it."""

    def __init__(
        self,
        message: str,
        *,
        plugin_id: str = "",
        step: str = "health gate",
        last_responses: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, plugin_id=plugin_id, step=step)
        self.last_responses = last_responses or []


class LatencyBudgetError(HealthGateError):
    """An instance answered its probes, but their p95 latency is over the budget."""
