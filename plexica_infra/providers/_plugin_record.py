"""`PluginRecord`: the plugin known to the Core API (registered), before anything else.

The guide's deployment flow registers a plugin, then its service, then installs it:
a Core API keys its service registry on plugins it knows, and install checks the
registered service. So a deploy creates `PluginRecord` -> `ServiceRegistration` ->
`PluginRegistration` (install, enable), in that order.

create  register the manifest unless the Core API knows the plugin (in any state);
        "already registered" converges.
update  nothing to do: a new manifest is swapped in by `PluginRegistration`'s update.
delete  back to the dialect's removed state, like `PluginRegistration` (a no-op when
        that already ran); unreachable Core API: a warning, the resource goes.
read    whether the Core API still knows the plugin; unreachable: last known outputs.
diff    replace on `plugin_id`, `core_api_url` or `dialect`; the manifest and version
        are the registration's business, so they never cause a diff here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._base import CORE_API_KEYS, CoreApiProvider, CoreApiResource, plain
from plexica_infra.providers._config import TransportSettings
from plexica_infra.providers._exceptions import CoreApiUnreachableError
from plexica_infra.providers._inputs import CoreApiTarget
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle
from plexica_infra.providers._plugin_registration import PluginSpec

__all__ = ["PluginRecord", "PluginRecordProvider"]


class PluginRecordProvider(CoreApiProvider):
    """Dynamic provider behind `PluginRecord` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = (
        "plugin_id",
        "core_api_url",
        "dialect",
        "insecure_skip_tls_verify",
        "auth_mode",
        "token_url",
        "client_id",
        "tenant_slug",
    )
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "core_api_url", "dialect"})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = CoreApiTarget.defaults(news)
        failures = [CheckFailure(key, reason) for key, reason in PluginSpec.problems(plain(inputs))]
        return CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = PluginSpec.from_props(props)
        with self.dialect(props, plugin_id=spec.plugin_id, step="register") as dialect:
            plugin = PluginLifecycle(dialect, spec.plugin_id).ensure_registered(spec.desired_manifest)
        outputs = {
            **{key: value for key, value in spec.inputs().items() if key != "enabled"},
            "registered_version": plugin.version,
            "created_at": plugin.created_at,
        }
        return CreateResult(spec.plugin_id, outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        olds = plain(_olds)
        news = {key: value for key, value in PluginSpec.from_props(_news).inputs().items() if key != "enabled"}
        return UpdateResult({**olds, **news})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = plain(_props)
        plugin_id = str(props.get("plugin_id") or _id)
        try:
            with self.dialect(props, plugin_id=plugin_id, step="delete", probing=True) as dialect:
                PluginLifecycle(dialect, plugin_id).converge(None, step="delete")
        except CoreApiUnreachableError as exc:
            self.warn(
                f"{exc}; the registration of {plugin_id} was NOT removed from the Core API at "
                f"{props.get('core_api_url')}: remove it there once the Core API is back"
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        plugin_id = str(props.get("plugin_id") or id_)
        try:
            with self.dialect(props, plugin_id=plugin_id, step="read", probing=True) as dialect:
                plugin = PluginLifecycle(dialect, plugin_id).get()
        except CoreApiUnreachableError as exc:
            self.warn(f"{exc}; keeping the last known registration of {plugin_id} (drift unknown)")
            return ReadResult(id_, self.inputs_to_outputs(props))
        if plugin is None:
            return ReadResult("", {})
        return ReadResult(id_, {**self.inputs_to_outputs(props), "plugin_id": plugin_id})


class PluginRecord(CoreApiResource, module="plexica", name="PluginRecord"):
    """A plugin registered with the Core API (first step of the deployment flow)."""

    plugin_id: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    registered_version: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        plugin_id: pulumi.Input[str],
        manifest: pulumi.Input[Mapping[str, Any]],
        version: pulumi.Input[str],
        core_api_url: pulumi.Input[str],
        token: pulumi.Input[str] | None = None,
        insecure_skip_tls_verify: pulumi.Input[bool] = False,
        dialect: pulumi.Input[str] = "guide",
        auth_mode: pulumi.Input[str] = "static",
        token_url: pulumi.Input[str] = "",
        client_id: pulumi.Input[str] = "",
        client_secret: pulumi.Input[str] | None = None,
        tenant_slug: pulumi.Input[str] | None = None,
        transport: TransportSettings | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "plugin_id": plugin_id,
            "manifest": manifest,
            "version": version,
            "core_api_url": core_api_url,
            "token": token,
            "client_secret": client_secret,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            **dict(zip(CORE_API_KEYS, (dialect, auth_mode, token_url, client_id, tenant_slug), strict=True)),
            "registered_version": None,
            "created_at": None,
        }
        super().__init__(PluginRecordProvider(transport), resource_name, props, opts)
