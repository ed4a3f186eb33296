"""`PluginRegistration`: a plugin installed and ACTIVE (or DISABLED) in the Core API.

create  install -> enable, ending ACTIVE (registering first if `PluginRecord` has not);
        with `enabled=False` it goes on to disable and ends DISABLED, because both
        lifecycles reach DISABLED only from ACTIVE (INSTALLED -> ACTIVE -> DISABLED), so
        the plugin serves traffic for the moment between enable and disable.
update  `POST /{id}/update` with the new manifest (the hot-swap), then enable or
        disable to match `enabled`.
delete  back to the dialect's removed state: disable -> DELETE, ending UNINSTALLED
        (guide) or REGISTERED (plexica-v1, whose DELETE keeps the row); a plugin the
        Core API does not know counts as deleted. With the Core API unreachable the
        resource is let go with a warning naming what was left registered.
read    the plugin as the Core API holds it (`state`, `version`, `manifest`), so a
        plugin disabled by hand shows up as a diff after a refresh and the next
        `pulumi up` enables it again. With the Core API unreachable the last known
        outputs are kept, with a warning: drift is unknown.
diff    replace when `plugin_id`, `core_api_url` or `dialect` changes (deleting first);
        update on `manifest`, `version`, `enabled` or a connection setting, and when the
        observed `state` is not the one `enabled` asks for.

Every step converges when the plugin is already where the step would take it, so
re-running a create that died half-way finishes it (see `_plugin_lifecycle`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from plexica_infra.contract import LifecycleState
from plexica_infra.providers._core_api_provider import CoreApiResource
from plexica_infra.providers._inputs import PluginRegistrationInputs
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle, manifest_differs
from plexica_infra.providers._plugin_provider import PluginProvider
from plexica_infra.providers._props import contains_unknown
from plexica_infra.providers.dialects import Dialect, PluginView

__all__ = ["PluginRegistration", "PluginRegistrationProvider", "observed"]


def observed(plugin: PluginView) -> dict[str, Any]:
    """The outputs that say what the Core API holds."""
    return {
        "state": plugin.state.value,
        "version": plugin.version,
        "manifest": plugin.manifest,
        "created_at": plugin.created_at,
        "updated_at": plugin.updated_at,
    }


def _installed(dialect: Dialect, plugin_id: str) -> dict[str, Any] | None:
    lifecycle = PluginLifecycle(dialect, plugin_id)
    plugin = lifecycle.get()
    return None if plugin is None or lifecycle.removed(plugin) else observed(plugin)


class PluginRegistrationProvider(PluginProvider):
    """Dynamic provider behind `PluginRegistration` (usable directly in tests)."""

    INPUTS = PluginRegistrationInputs
    LEFT_ON_OUTAGE: ClassVar[str] = (
        "the plugin was NOT uninstalled from the Core API at {url}: "
        "uninstall it there once the Core API is back (or run `pulumi up` then `pulumi destroy` again)"
    )

    def _converge(self, props: dict[str, Any], step: str) -> dict[str, Any]:
        spec = PluginRegistrationInputs.from_props(props, "inputs")
        with self.dialect(props, plugin_id=spec.plugin_id, step=step) as dialect:
            plugin = PluginLifecycle(dialect, spec.plugin_id).converge(spec.goal, spec.desired_manifest, step=step)
        assert plugin is not None
        return {**spec.inputs(), **observed(plugin)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._converge(props, "create")
        return CreateResult(outputs["plugin_id"], outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(_news, "update"))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return self.observe(id_, props, "read", _installed, "state")

    def same(self, key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        if key == "manifest":
            manifest, version = news.get("manifest"), news.get("version")
            if contains_unknown(manifest) or contains_unknown(version) or not isinstance(manifest, dict):
                return False
            desired = {**manifest, "id": news.get("plugin_id"), "version": version}
            return not manifest_differs(olds.get("manifest"), olds.get("version"), desired)
        return super().same(key, olds, news)

    def drift(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        enabled = news.get("enabled", True)
        if contains_unknown(enabled) or "state" not in olds:
            return []
        wanted = LifecycleState.ACTIVE if enabled else LifecycleState.DISABLED
        return [] if olds["state"] == wanted else ["state"]


class PluginRegistration(CoreApiResource, module="plexica", name="PluginRegistration"):
    """A plugin installed and ACTIVE (or DISABLED) in the Core API.

    Inputs: the fields of `PluginRegistrationInputs`. Outputs echo the inputs except the
    secrets, plus what the Core API holds: `state`, `version`, `manifest`, `created_at`,
    `updated_at`.
    """

    PROVIDER = PluginRegistrationProvider

    plugin_id: pulumi.Output[str]
    manifest: pulumi.Output[dict[str, Any]]
    version: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    dialect: pulumi.Output[str]
    enabled: pulumi.Output[bool]
    insecure_skip_tls_verify: pulumi.Output[bool]
    state: pulumi.Output[str]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]
