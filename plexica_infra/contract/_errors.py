"""What an error answer means, per dialect: the error mapping both sides agree on.

The providers' convergence logic acts on an `ErrorKind`, never on a status code or a
dialect: `ALREADY` ("already exists", "already active", 409 invalid transition) means
"read the plugin and carry on from where it is"; `NOT_FOUND` means "it is not there";
`AUTH_EXPIRED` means "fetch a new token and try once more".
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "GUIDE_TOKEN_EXPIRED",
    "V1_ALREADY_PHRASES",
    "V1_AUTH_TOKEN_EXPIRED",
    "ErrorKind",
    "classify_guide",
    "classify_v1",
]


class ErrorKind(StrEnum):
    NOT_FOUND = "not_found"
    #: The request does not fit the plugin's state (it is already there, or elsewhere).
    ALREADY = "already"
    AUTH_EXPIRED = "auth_expired"
    AUTH = "auth"
    #: 429 or 5xx: worth retrying.
    UNAVAILABLE = "unavailable"
    #: Refused for what it says (invalid manifest, failed health check, ...).
    REFUSED = "refused"


#: The emulator's code for an expired bearer token (guide dialect).
GUIDE_TOKEN_EXPIRED = "token_expired"
#: `apps/core-api/src/middleware/auth.ts`.
V1_AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"
#: Messages of the real Core API's 400s that mean "the plugin is not in the state this
#: request starts from" (`plugin.service.ts`): converge instead of failing.
V1_ALREADY_PHRASES = (
    "already registered",
    "already installed",
    "already active",
    "already inactive",
    "already disabled",
    "is not installed",
    "is not active",
    "cannot transition",
)


def _common(status: int) -> ErrorKind | None:
    if status == 429 or status >= 500:
        return ErrorKind.UNAVAILABLE
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    return None


def classify_guide(status: int, code: str, message: str) -> ErrorKind:
    if status == 401 and code == GUIDE_TOKEN_EXPIRED:
        return ErrorKind.AUTH_EXPIRED
    if status == 409:
        return ErrorKind.ALREADY
    return _common(status) or ErrorKind.REFUSED


def classify_v1(status: int, code: str, message: str) -> ErrorKind:
    if status == 401 and code == V1_AUTH_TOKEN_EXPIRED:
        return ErrorKind.AUTH_EXPIRED
    if status == 400 and code.endswith("_FAILED") and any(p in message.lower() for p in V1_ALREADY_PHRASES):
        return ErrorKind.ALREADY
    if status == 409:
        return ErrorKind.ALREADY
    return _common(status) or ErrorKind.REFUSED
