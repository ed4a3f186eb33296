"""`CoreApiProvider`: credentials, dialect, one client per method, and reads and deletes
that survive a Core API outage (see `_outage`).

The token and client secret come from the resource's secret `token` / `client_secret`
inputs; `read` and `delete` get only the stored outputs, which never carry them, so
they fall back to the stack config keys `plexica:coreApiToken` /
`plexica:coreApiClientSecret` (read by `configure()`, never pickled) and then to the
PLEXICA_CORE_API_TOKEN / PLEXICA_CORE_API_CLIENT_SECRET environment variables.

Which Core API is spoken is an input too (`dialect`: `guide` or `plexica-v1`); the
providers' logic never asks which one it is (see `plexica_infra.providers.dialects`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import ConfigureRequest, ReadResult

from plexica_infra.contract import DEFAULT_DIALECT, DEFAULT_TENANT_SLUG
from plexica_infra.providers._auth import ClientCredentials, Credentials, StaticCredentials
from plexica_infra.providers._base import ProviderBase, ProviderResource
from plexica_infra.providers._config import (
    CLIENT_SECRET_CONFIG_KEY,
    CLIENT_SECRET_ENV_VAR,
    TOKEN_CONFIG_KEY,
    TOKEN_ENV_VAR,
    TransportSettings,
)
from plexica_infra.providers._exceptions import CoreApiConfigError, CoreApiUnreachableError
from plexica_infra.providers._outage import known_unreachable, probing, remember_unreachable
from plexica_infra.providers._props import plain
from plexica_infra.providers._transport import CoreApiClient, never_connected
from plexica_infra.providers.dialects import Dialect, dialect_class

__all__ = ["CoreApiProvider", "CoreApiResource"]


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

    # Credentials and clients ------------------------------------------------------------------

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

    @staticmethod
    def dialect_class(props: Mapping[str, Any], *, plugin_id: str, step: str) -> type[Dialect]:
        try:
            return dialect_class(str(props.get("dialect") or DEFAULT_DIALECT))
        except ValueError as exc:
            raise CoreApiConfigError(f"{plugin_id}: {step}: {exc}", plugin_id=plugin_id, step=step) from exc

    @contextmanager
    def dialect(
        self, props: Mapping[str, Any], *, plugin_id: str, step: str, probing_outage: bool = False
    ) -> Iterator[Dialect]:
        """The Core API's dialect over a fresh client; errors become one CoreApiError line.

        `probing_outage` (reads and deletes) gives up early on a Core API nothing answers
        for, and at once on one this process recently found unreachable (see `_outage`).
        """
        url = str(props.get("core_api_url", "")).rstrip("/")
        settings = self.transport
        if probing_outage:
            if known_unreachable(url):
                raise CoreApiUnreachableError(
                    f"{plugin_id}: {step}: the Core API at {url} was unreachable earlier in this run",
                    plugin_id=plugin_id,
                    step=step,
                )
            settings = probing(settings)
        kind = self.dialect_class(props, plugin_id=plugin_id, step=step)
        with self.guard(plugin_id=plugin_id, step=step):
            try:
                with CoreApiClient(
                    str(props.get("core_api_url", "")),
                    self.credentials(props, plugin_id=plugin_id, step=step),
                    plugin_id=plugin_id,
                    insecure_skip_tls_verify=bool(props.get("insecure_skip_tls_verify", False)),
                    settings=settings,
                    classify=kind.classify,
                    headers=kind.headers(str(props.get("tenant_slug") or DEFAULT_TENANT_SLUG)),
                ) as api:
                    yield kind(api)
            except CoreApiUnreachableError as exc:
                if probing_outage and never_connected(exc):
                    remember_unreachable(url)
                raise

    # Reads and deletes through an outage ------------------------------------------------------

    @staticmethod
    def warn(message: str) -> None:
        """A warning the engine shows next to the run: a line on the provider host's stderr.

        (What `pulumi.log.warn` does in the provider host, which has no engine connection;
        written directly so it never depends on whichever engine a process last set up.)
        """
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def observe(
        self,
        id_: str,
        props: Mapping[str, Any],
        step: str,
        look: Callable[[Dialect, str], dict[str, Any] | None],
        kept: str,
    ) -> ReadResult:
        """A read: what `look` observes over the stored outputs, gone when it returns None.

        With the Core API unreachable: the last known outputs and a warning that keeping
        the last known `kept` leaves drift unknown.
        """
        props = plain(props)
        plugin_id = str(props.get("plugin_id") or id_)
        try:
            with self.dialect(props, plugin_id=plugin_id, step=step, probing_outage=True) as dialect:
                observed = look(dialect, plugin_id)
        except CoreApiUnreachableError as exc:
            self.warn(f"{exc}; keeping the last known {kept} of {plugin_id} (drift unknown)")
            return ReadResult(id_, self.inputs_to_outputs(props))
        if observed is None:
            return ReadResult("", {})
        return ReadResult(id_, {**self.inputs_to_outputs(props), "plugin_id": plugin_id, **observed})

    def remove(
        self, id_: str, props: Mapping[str, Any], step: str, act: Callable[[Dialect, str], None], left: str
    ) -> None:
        """A delete by `act`; with the Core API unreachable the resource goes with a warning.

        `left` says what stays in the Core API; `{plugin_id}` and `{url}` in it are filled in.
        """
        props = plain(props)
        plugin_id = str(props.get("plugin_id") or id_)
        try:
            with self.dialect(props, plugin_id=plugin_id, step=step, probing_outage=True) as dialect:
                act(dialect, plugin_id)
        except CoreApiUnreachableError as exc:
            url = str(props.get("core_api_url"))
            self.warn(f"{exc}; {left.replace('{plugin_id}', plugin_id).replace('{url}', url)}")


class CoreApiResource(ProviderResource):
    """A Core API resource: its provider (`PROVIDER`) made with the caller's `transport`.

    Inputs are the keyword arguments: the fields of the provider's inputs model.
    """

    PROVIDER: ClassVar[type[CoreApiProvider]]

    def __init__(
        self,
        resource_name: str,
        *,
        transport: TransportSettings | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **inputs: Any,
    ) -> None:
        super().__init__(self.PROVIDER(transport), resource_name, inputs, opts)
