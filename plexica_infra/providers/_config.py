"""Timeouts, retry budgets and the TLS rule shared by every provider.

Each number is a named constant; `TransportSettings` bundles them so a test or
a stack can shrink the budgets without touching call sites.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from plexica_infra._validators import is_local_host
from plexica_infra.contract import CLIENT_SECRET_ENV_VAR, TOKEN_ENV_VAR
from plexica_infra.providers._exceptions import CoreApiConfigError

__all__ = [
    "CLIENT_SECRET_CONFIG_KEY",
    "CLIENT_SECRET_ENV_VAR",
    "CONNECT_TIMEOUT_SECONDS",
    "LIFECYCLE_READ_TIMEOUT_SECONDS",
    "MAX_CONVERGE_STEPS",
    "POOL_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "RETRY_INITIAL_BACKOFF_SECONDS",
    "RETRY_MAX_ATTEMPTS",
    "RETRY_MAX_BACKOFF_SECONDS",
    "RETRY_MAX_ELAPSED_SECONDS",
    "SETTLE_TIMEOUT_SECONDS",
    "TOKEN_CONFIG_KEY",
    "TOKEN_ENV_VAR",
    "WRITE_TIMEOUT_SECONDS",
    "TransportSettings",
    "is_local_host",
    "ssl_context",
    "tls_verify",
]

#: Opening a TCP (and TLS) connection to the Core API.
CONNECT_TIMEOUT_SECONDS = 5.0
#: Waiting for an answer to a plain call (GET, register, enable, disable, delete).
READ_TIMEOUT_SECONDS = 15.0
#: Waiting for install and update: the Core API health-checks every endpoint of
#: the plugin first (3 attempts of up to 5 s per probe in the emulator).
LIFECYCLE_READ_TIMEOUT_SECONDS = 60.0
WRITE_TIMEOUT_SECONDS = 10.0
#: Waiting for a free connection in the client's pool.
POOL_TIMEOUT_SECONDS = 5.0

#: Tries per call, the first included; connect errors, timeouts, dropped
#: connections, 429 and 5xx are retried, other 4xx never.
RETRY_MAX_ATTEMPTS = 6
#: No retry starts once this much time has passed since the first try.
RETRY_MAX_ELAPSED_SECONDS = 60.0
#: Backoff doubles from here (0.25, 0.5, 1, 2, 4 s ...), each delay jittered
#: to between half and all of it so parallel callers spread out.
RETRY_INITIAL_BACKOFF_SECONDS = 0.25
RETRY_MAX_BACKOFF_SECONDS = 8.0

#: How long to wait for a plugin another caller left INSTALLING or UNINSTALLING.
SETTLE_TIMEOUT_SECONDS = 60.0
#: Lifecycle requests one create/update/delete may make before giving up; the
#: longest path (UNINSTALLED -> register, update, install, enable, disable) is 5.
MAX_CONVERGE_STEPS = 12

#: Stack config key the providers' `configure()` reads the token from, for the
#: calls that get no token input: `read` (refresh) and `delete`.
TOKEN_CONFIG_KEY = "plexica:coreApiToken"
#: The same for the client secret of client-credentials auth.
CLIENT_SECRET_CONFIG_KEY = "plexica:coreApiClientSecret"
# The environment fallbacks, after the input and the stack config, are TOKEN_ENV_VAR and
# CLIENT_SECRET_ENV_VAR from `plexica_infra.contract`.


@dataclass(frozen=True)
class TransportSettings:
    """Timeouts and retry budget of every Core API call (defaults: the constants above)."""

    connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    read_timeout: float = READ_TIMEOUT_SECONDS
    lifecycle_read_timeout: float = LIFECYCLE_READ_TIMEOUT_SECONDS
    write_timeout: float = WRITE_TIMEOUT_SECONDS
    pool_timeout: float = POOL_TIMEOUT_SECONDS
    max_attempts: int = RETRY_MAX_ATTEMPTS
    max_elapsed: float = RETRY_MAX_ELAPSED_SECONDS
    initial_backoff: float = RETRY_INITIAL_BACKOFF_SECONDS
    max_backoff: float = RETRY_MAX_BACKOFF_SECONDS
    settle_timeout: float = SETTLE_TIMEOUT_SECONDS
    #: An HTTP(S) proxy for Core API calls. None: no proxy, whatever HTTP(S)_PROXY say,
    #: so the admin token never goes to a proxy nobody configured for it.
    proxy: str | None = None
    #: Give up after this many tries that got no HTTP answer at all (refused, timed out),
    #: whatever is left of the budget; None: the full budget. Reads use it to call an
    #: unreachable Core API down quickly, while a Core API answering 5xx keeps the full budget.
    unreachable_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("connect_timeout", "read_timeout", "lifecycle_read_timeout", "max_elapsed"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    def timeout(self, *, lifecycle: bool = False) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.lifecycle_read_timeout if lifecycle else self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )


def tls_verify(
    url: str, insecure_skip_tls_verify: bool, *, what: str = "core_api_url", example: str = "http://127.0.0.1:3000"
) -> bool:
    """Whether to verify TLS for `url`; verification is on unless explicitly skipped.

    Skipping is accepted only for a local URL: a remote Core API with an
    unverified certificate would hand the admin token to whoever answers.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CoreApiConfigError(f"{what} {url!r} is not an http(s) URL such as {example!r}")
    if not insecure_skip_tls_verify:
        return True
    if not is_local_host(parts.hostname):
        raise CoreApiConfigError(
            f"insecure_skip_tls_verify is set but {what} host {parts.hostname!r} is not local; "
            "TLS verification can be skipped only for localhost, 127.0.0.0/8 or ::1"
        )
    return False


@functools.cache
def ssl_context(verify: bool) -> ssl.SSLContext:
    """The TLS context for every client of this process, built once.

    Building one loads the CA bundle (~40 ms), and every provider method makes a
    new client because the provider object is pickled; sharing the context keeps
    a create at a few milliseconds.
    """
    return httpx.create_ssl_context(verify=verify)
