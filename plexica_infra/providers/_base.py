"""The abstract base of the Core API providers: token, client, diff and error mapping.

Pulumi pickles each provider object with dill into the stack state, so a
provider holds only plain settings: no HTTP client (one is made inside each
method) and no token. The token comes from the resource's secret `token`
input; `read` and `delete` get only the stored outputs, which never carry it,
so they fall back to the stack config key `plexica:coreApiToken` (read by
`configure()`) and then to the PLEXICA_CORE_API_TOKEN environment variable.
"""

from __future__ import annotations

import abc
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
import pulumi
from pulumi.dynamic import ConfigureRequest, DiffResult, Resource, ResourceProvider
from pulumi.runtime.rpc import UNKNOWN, unwrap_rpc_secret

from plexica_infra.errors import PlexicaError
from plexica_infra.providers._config import TOKEN_CONFIG_KEY, TOKEN_ENV_VAR, TransportSettings
from plexica_infra.providers._exceptions import CoreApiConfigError, CoreApiError
from plexica_infra.providers._transport import CoreApiClient

__all__ = ["PROVIDER_KEY", "CoreApiProvider", "CoreApiResource", "ProviderBase", "contains_unknown", "plain"]

#: The property holding the pickled provider; never an input of ours, never diffed.
PROVIDER_KEY = "__provider"


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
    PRIVATE_KEYS: ClassVar[frozenset[str]] = frozenset({PROVIDER_KEY, "token"})

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
    """A provider that calls the Core API: token resolution and one client per method."""

    #: A new `core_api_url` may name the same Core API, and create-then-delete
    #: would uninstall what the create just converged: delete first.
    DELETE_BEFORE_REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"core_api_url"})

    def __init__(self, transport: TransportSettings | None = None) -> None:
        super().__init__()
        self.transport = transport or TransportSettings()
        self._configured_token: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_configured_token"] = None  # a configured token never goes back into state
        return state

    def configure(self, req: ConfigureRequest) -> None:
        value = plain(req.config.get(TOKEN_CONFIG_KEY))
        self._configured_token = str(value) if value else None

    def token(self, props: Mapping[str, Any], *, plugin_id: str, step: str) -> str:
        for candidate in (
            props.get("token"),
            self._configured_token,
            os.environ.get(TOKEN_ENV_VAR),
        ):
            if isinstance(candidate, str) and candidate:
                return candidate
        raise CoreApiConfigError(
            f"{plugin_id}: {step}: no Core API token: pass the `token` input, set the secret "
            f"stack config {TOKEN_CONFIG_KEY} (pulumi config set --secret {TOKEN_CONFIG_KEY} ...) "
            f"or set {TOKEN_ENV_VAR}",
            plugin_id=plugin_id,
            step=step,
        )

    def client(self, props: Mapping[str, Any], *, plugin_id: str, step: str) -> CoreApiClient:
        return CoreApiClient(
            str(props.get("core_api_url", "")),
            self.token(props, plugin_id=plugin_id, step=step),
            plugin_id=plugin_id,
            insecure_skip_tls_verify=bool(props.get("insecure_skip_tls_verify", False)),
            settings=self.transport,
        )

    def normalize(self, key: str, value: Any) -> Any:
        if key == "core_api_url" and isinstance(value, str):
            return value.rstrip("/")
        if key == "insecure_skip_tls_verify":
            return bool(value)
        return value


class CoreApiResource(Resource):
    """A dynamic resource of ours: its `token` input is a secret, and stays one in the outputs.

    Subclasses pass every prop, `token` included as given by the caller; the token is
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
        secret_props = {**props, "token": pulumi.Output.secret(props["token"])}
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=["token"]), opts)
        super().__init__(provider, resource_name, secret_props, opts)
