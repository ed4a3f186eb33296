"""The abstract base of the Core API providers: credentials, dialect, diff and error mapping.

Pulumi pickles each provider object with dill into the stack state, so a
provider holds only plain settings: no HTTP client (one is made inside each
method), no token and no client secret. They come from the resource's secret
`token` / `client_secret` inputs; `read` and `delete` get only the stored outputs,
which never carry them, so they fall back to the stack config keys
`plexica:coreApiToken` / `plexica:coreApiClientSecret` (read by `configure()`) and
then to the PLEXICA_CORE_API_TOKEN / PLEXICA_CORE_API_CLIENT_SECRET environment
variables.

Which Core API is spoken is an input too (`dialect`: `guide` or `plexica-v1`); the
providers' logic never asks which one it is (see `plexica_infra.providers.dialects`).

When the Core API cannot be reached at all, `read` keeps the last known outputs
with a warning naming the plugin (drift unknown) and `delete` lets the resource go
with a warning naming the registration it could not remove, so `preview` and the
removal of containers still work during an outage; create and update fail.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
import pulumi
from pulumi.dynamic import ConfigureRequest, DiffResult, Resource, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN, unwrap_rpc_secret

from plexica_infra.contract import DEFAULT_DIALECT, DEFAULT_TENANT_SLUG
from plexica_infra.errors import PlexicaError
from plexica_infra.providers._auth import ClientCredentials, Credentials, StaticCredentials
from plexica_infra.providers._config import (
    CLIENT_SECRET_CONFIG_KEY,
    CLIENT_SECRET_ENV_VAR,
    TOKEN_CONFIG_KEY,
    TOKEN_ENV_VAR,
    TransportSettings,
)
from plexica_infra.providers._exceptions import CoreApiConfigError, CoreApiError, CoreApiUnreachableError
from plexica_infra.providers._transport import CoreApiClient, never_connected
from plexica_infra.providers.dialects import Dialect, dialect_class

__all__ = [
    "CORE_API_KEYS",
    "OUTAGE_MEMORY_SECONDS",
    "OUTAGE_PROBE_ATTEMPTS",
    "OUTAGE_PROBE_SECONDS",
    "PROVIDER_KEY",
    "SECRET_KEYS",
    "CoreApiProvider",
    "CoreApiResource",
    "ProviderBase",
    "contains_unknown",
    "plain",
]

#: The property holding the pickled provider; never an input of ours, never diffed.
PROVIDER_KEY = "__provider"
#: Secret inputs: sent to the provider as secrets, never diffed, never in outputs.
SECRET_KEYS = frozenset({"token", "client_secret"})
#: How every Core API resource says which Core API it talks to and how it authenticates.
CORE_API_KEYS = ("dialect", "auth_mode", "token_url", "client_id", "tenant_slug")
#: A `read` that gets no HTTP answer this often (each connect attempt bounded by
#: OUTAGE_PROBE_SECONDS) calls the Core API down and keeps the last known state: a refresh
#: of many resources during an outage must not spend the full retry budget of a write on
#: each. A Core API that answers (even 5xx) gets the full budget, and a read that still
#: fails then fails the run.
OUTAGE_PROBE_ATTEMPTS = 2
OUTAGE_PROBE_SECONDS = 3.0
#: For this long after a read found a Core API unreachable, later reads of this process
#: (one `pulumi refresh` / `up` run) skip it at once.
OUTAGE_MEMORY_SECONDS = 30.0
_UNREACHABLE: dict[str, float] = {}
_UNREACHABLE_LOCK = threading.Lock()


def plain(value: Any) -> Any:
    """`value` with Pulumi's wrapped secrets unwrapped, at any depth.

    Pulumi carries every number as a float; whole numbers become ints again, so the
    Core API receives the manifest as written (`"port": 3100`, not `3100.0`).
    """
    value = unwrap_rpc_secret(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _report_own_errors_without_traceback() -> None:
    """Inside Pulumi's dynamic provider host, report our errors as their one clear line.

    The host (`python -m pulumi.dynamic`) answers every provider exception with
    `traceback.format_exc()`. Our `PlexicaError`s already name the plugin, the step and
    the Core API's answer, so for those the traceback only buries the message; any other
    exception (a bug) keeps its full traceback.
    """
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", "") != "pulumi.dynamic.__main__":
        return
    original = traceback.format_exc
    if getattr(original, "_plexica", False):
        return

    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, PlexicaError):
            return f"{error}\n"
        return original(limit, chain)

    format_exc._plexica = True  # type: ignore[attr-defined]
    traceback.format_exc = format_exc


_report_own_errors_without_traceback()


def contains_unknown(value: Any) -> bool:
    """True when a preview left any part of `value` unknown."""
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return False


class ProviderBase(ResourceProvider, abc.ABC):
    """The diff helper and error mapping every provider of ours shares."""

    #: The inputs `diff` compares, in the order it reports them.
    INPUT_KEYS: ClassVar[tuple[str, ...]]
    #: Inputs whose change needs a new resource rather than an update.
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset()
    #: Replacements that must delete the old resource first.
    DELETE_BEFORE_REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset()
    #: Never diffed and never copied into outputs.
    PRIVATE_KEYS: ClassVar[frozenset[str]] = frozenset({PROVIDER_KEY, *SECRET_KEYS})

    @contextmanager
    def guard(self, *, plugin_id: str, step: str) -> Iterator[None]:
        """Re-raise anything unexpected as a CoreApiError naming the plugin and the step."""
        try:
            yield
        except CoreApiError:
            raise
        except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
            raise CoreApiError(
                f"{plugin_id}: {step}: {type(exc).__name__}: {exc}", plugin_id=plugin_id, step=step
            ) from exc

    # Diff -------------------------------------------------------------------------------------

    def normalize(self, key: str, value: Any) -> Any:
        """The comparable form of an input (defaults applied); override per provider."""
        return value

    def same(self, key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        new = news.get(key)
        if contains_unknown(new):
            return False
        return bool(self.normalize(key, olds.get(key)) == self.normalize(key, new))

    def drift(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """Output properties whose observed value differs from what `news` wants."""
        return []

    def changed_keys(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """Inputs that differ, then drifted outputs; `__provider` and the token never count."""
        olds, news = plain(olds), plain(news)
        changed = [key for key in self.INPUT_KEYS if not self.same(key, olds, news)]
        return changed + [key for key in self.drift(olds, news) if key not in changed]

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        changed = self.changed_keys(_olds, _news)
        replaces = [key for key in changed if key in self.REPLACE_KEYS]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=bool(self.DELETE_BEFORE_REPLACE_KEYS.intersection(replaces)),
        )

    def inputs_to_outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs echoed as outputs: everything but the token and the pickled provider."""
        return {key: value for key, value in props.items() if key not in self.PRIVATE_KEYS}


class CoreApiProvider(ProviderBase):
    """A provider that calls the Core API: credentials, dialect and one client per method."""

    #: A new `core_api_url` or dialect may name the same Core API, and create-then-delete
    #: would uninstall what the create just converged: delete first.
    DELETE_BEFORE_REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"core_api_url", "dialect"})

    def __init__(self, transport: TransportSettings | None = None) -> None:
        super().__init__()
        self.transport = transport or TransportSettings()
        self._configured_token: str | None = None
        self._configured_secret: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # configured credentials never go back into state
        state["_configured_token"] = None
        state["_configured_secret"] = None
        return state

    def configure(self, req: ConfigureRequest) -> None:
        token = plain(req.config.get(TOKEN_CONFIG_KEY))
        secret = plain(req.config.get(CLIENT_SECRET_CONFIG_KEY))
        self._configured_token = str(token) if token else None
        self._configured_secret = str(secret) if secret else None

    def _credential(self, props: Mapping[str, Any], key: str, configured: str | None, env: str) -> str | None:
        for candidate in (props.get(key), configured, os.environ.get(env)):
            if isinstance(candidate, str) and candidate:
                return candidate
        return None

    def token(self, props: Mapping[str, Any], *, plugin_id: str, step: str) -> str:
        token = self._credential(props, "token", self._configured_token, TOKEN_ENV_VAR)
        if token is None:
            raise CoreApiConfigError(
                f"{plugin_id}: {step}: no Core API token: pass the `token` input, set the secret "
                f"stack config {TOKEN_CONFIG_KEY} (pulumi config set --secret {TOKEN_CONFIG_KEY}, "
                f"reading the value from stdin) or set {TOKEN_ENV_VAR}",
                plugin_id=plugin_id,
                step=step,
            )
        return token

    def credentials(self, props: Mapping[str, Any], *, plugin_id: str, step: str) -> Credentials:
        mode = props.get("auth_mode") or "static"
        if mode == "static":
            return StaticCredentials(self.token(props, plugin_id=plugin_id, step=step))
        if mode != "client-credentials":
            raise CoreApiConfigError(
                f"{plugin_id}: {step}: auth_mode {mode!r} is not 'static' or 'client-credentials'",
                plugin_id=plugin_id,
                step=step,
            )
        secret = self._credential(props, "client_secret", self._configured_secret, CLIENT_SECRET_ENV_VAR)
        return ClientCredentials(
            str(props.get("token_url") or ""),
            str(props.get("client_id") or ""),
            secret or "",
            plugin_id=plugin_id,
            step=step,
            insecure_skip_tls_verify=bool(props.get("insecure_skip_tls_verify", False)),
            settings=self.transport,
        )

    def client(
        self,
        props: Mapping[str, Any],
        *,
        plugin_id: str,
        step: str,
        dialect: type[Dialect] | None = None,
        settings: TransportSettings | None = None,
    ) -> CoreApiClient:
        kind = dialect or self.dialect_class(props, plugin_id=plugin_id, step=step)
        return CoreApiClient(
            str(props.get("core_api_url", "")),
            self.credentials(props, plugin_id=plugin_id, step=step),
            plugin_id=plugin_id,
            insecure_skip_tls_verify=bool(props.get("insecure_skip_tls_verify", False)),
            settings=settings or self.transport,
            classify=kind.classify,
            headers=kind.headers(str(props.get("tenant_slug") or DEFAULT_TENANT_SLUG)),
        )

    @staticmethod
    def dialect_class(props: Mapping[str, Any], *, plugin_id: str, step: str) -> type[Dialect]:
        try:
            return dialect_class(str(props.get("dialect") or DEFAULT_DIALECT))
        except ValueError as exc:
            raise CoreApiConfigError(f"{plugin_id}: {step}: {exc}", plugin_id=plugin_id, step=step) from exc

    @contextmanager
    def dialect(
        self, props: Mapping[str, Any], *, plugin_id: str, step: str, probing: bool = False
    ) -> Iterator[Dialect]:
        """The Core API's dialect over a fresh client; errors become one CoreApiError line.

        `probing` (reads and deletes) gives up after OUTAGE_PROBE_ATTEMPTS tries without any
        HTTP answer, and at once for a Core API this process found unreachable within
        OUTAGE_MEMORY_SECONDS; answers (even 5xx) still get the full retry budget.
        """
        url = str(props.get("core_api_url", "")).rstrip("/")
        settings = self.transport
        if probing:
            with _UNREACHABLE_LOCK:
                down = time.monotonic() - _UNREACHABLE.get(url, -OUTAGE_MEMORY_SECONDS) < OUTAGE_MEMORY_SECONDS
            if down:
                raise CoreApiUnreachableError(
                    f"{plugin_id}: {step}: the Core API at {url} was unreachable earlier in this run",
                    plugin_id=plugin_id,
                    step=step,
                )
            settings = dataclasses.replace(
                settings,
                unreachable_attempts=OUTAGE_PROBE_ATTEMPTS,
                connect_timeout=min(settings.connect_timeout, OUTAGE_PROBE_SECONDS),
            )
        kind = self.dialect_class(props, plugin_id=plugin_id, step=step)
        with self.guard(plugin_id=plugin_id, step=step):
            try:
                with self.client(props, plugin_id=plugin_id, step=step, dialect=kind, settings=settings) as api:
                    yield kind(api)
            except CoreApiUnreachableError as exc:
                if probing and never_connected(exc):
                    with _UNREACHABLE_LOCK:
                        _UNREACHABLE[url] = time.monotonic()
                raise

    @staticmethod
    def warn(message: str) -> None:
        """A warning the engine shows next to the run: a line on the provider host's stderr.

        (What `pulumi.log.warn` does in the provider host, which has no engine connection;
        written directly so it never depends on whichever engine a process last set up.)
        """
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def normalize(self, key: str, value: Any) -> Any:
        if key == "core_api_url" and isinstance(value, str):
            return value.rstrip("/")
        if key == "insecure_skip_tls_verify":
            return bool(value)
        if key == "dialect":
            return value or DEFAULT_DIALECT
        if key == "auth_mode":
            return value or "static"
        if key == "tenant_slug":
            return value or DEFAULT_TENANT_SLUG
        if key in ("token_url", "client_id"):
            return value or ""
        return value


class CoreApiResource(Resource):
    """A dynamic resource of ours: `token` and `client_secret` are secrets, and stay secret.

    Subclasses pass every prop, the secrets included as given by the caller; each is
    wrapped in `Output.secret` (keeping its place among the props) and listed in
    `additional_secret_outputs`, merged before the caller's `opts`.
    """

    def __init__(
        self,
        provider: ResourceProvider,
        resource_name: str,
        props: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret_props = {
            **props,
            **{key: pulumi.Output.secret(props[key]) for key in sorted(SECRET_KEYS) if props.get(key) is not None},
        }
        present = [key for key in sorted(SECRET_KEYS) if key in secret_props]
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=present), opts)
        super().__init__(provider, resource_name, secret_props, opts)
