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

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._core_api_provider import CoreApiResource
from plexica_infra.providers._inputs import PluginRecordInputs
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle
from plexica_infra.providers._plugin_provider import PluginProvider
from plexica_infra.providers._props import plain
from plexica_infra.providers.dialects import Dialect

__all__ = ["PluginRecord", "PluginRecordProvider"]


def _known(dialect: Dialect, plugin_id: str) -> dict[str, Any] | None:
    return None if PluginLifecycle(dialect, plugin_id).get() is None else {}


class PluginRecordProvider(PluginProvider):
    """Dynamic provider behind `PluginRecord` (usable directly in tests)."""

    INPUTS = PluginRecordInputs
    LEFT_ON_OUTAGE: ClassVar[str] = (
        "the registration of {plugin_id} was NOT removed from the Core API at {url}: "
        "remove it there once the Core API is back"
    )

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = PluginRecordInputs.from_props(props, "inputs")
        with self.dialect(props, plugin_id=spec.plugin_id, step="register") as dialect:
            plugin = PluginLifecycle(dialect, spec.plugin_id).ensure_registered(spec.desired_manifest)
        outputs = {**spec.inputs(), "registered_version": plugin.version, "created_at": plugin.created_at}
        return CreateResult(spec.plugin_id, outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**plain(_olds), **PluginRecordInputs.from_props(_news, "inputs").inputs()})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return self.observe(id_, props, "read", _known, "registration")


class PluginRecord(CoreApiResource, module="plexica", name="PluginRecord"):
    """A plugin registered with the Core API (first step of the deployment flow).

    Inputs: the fields of `PluginRecordInputs` (the plugin's id, manifest and version,
    and the Core API connection of `CoreApiConnection`).
    """

    PROVIDER = PluginRecordProvider

    plugin_id: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    registered_version: pulumi.Output[str]
