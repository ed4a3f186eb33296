"""`PluginRegistration`: a plugin's record in the Core API, kept in its lifecycle state.

create  register -> install -> enable, ending ACTIVE; with `enabled=False` it
        goes on to disable and ends DISABLED, because the guide's machine reaches
        DISABLED only from ACTIVE (INSTALLED -> ACTIVE -> DISABLED), so the plugin
        serves traffic for the moment between enable and disable.
update  `POST /{id}/update` with the new manifest (the hot-swap: the Core API
        health-checks the registered endpoints, then switches the version and
        keeps the state), then enable or disable to match `enabled`.
delete  disable -> DELETE, ending UNINSTALLED; a plugin the Core API does not know
        (404) or already UNINSTALLED counts as deleted. From INSTALLED the only
        path is enable -> disable -> DELETE, from REGISTERED install first.
read    GET the plugin: `state`, `version` and `manifest` outputs are what the
        Core API holds, so a plugin disabled by hand shows up as a diff after a
        refresh and the next `pulumi up` enables it again.
diff    replace when `plugin_id` or `core_api_url` changes (deleting first);
        update on `manifest`, `version`, `enabled` or `insecure_skip_tls_verify`,
        and when the observed `state` is not the one `enabled` asks for.

Every step converges when the plugin is already where the step would take it,
so re-running a create that died half-way finishes it (see `_plugin_lifecycle`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from plexica_infra.core_api import LifecycleState
from plexica_infra.providers._base import CoreApiProvider, CoreApiResource, contains_unknown, plain
from plexica_infra.providers._config import TransportSettings
from plexica_infra.providers._inputs import InputCheck, raise_input_problems
from plexica_infra.providers._plugin_lifecycle import Plugin, PluginLifecycle, manifest_differs

__all__ = ["PluginRegistration", "PluginRegistrationProvider", "PluginSpec"]


@dataclass(frozen=True)
class PluginSpec:
    """The validated inputs of a PluginRegistration."""

    plugin_id: str
    manifest: dict[str, Any]
    version: str
    core_api_url: str
    enabled: bool = True
    insecure_skip_tls_verify: bool = False

    @property
    def desired_manifest(self) -> dict[str, Any]:
        """The manifest as sent to the Core API: `id` and `version` from the inputs."""
        return {**self.manifest, "id": self.plugin_id, "version": self.version}

    @property
    def goal(self) -> LifecycleState:
        return LifecycleState.ACTIVE if self.enabled else LifecycleState.DISABLED

    @classmethod
    def problems(cls, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(input, reason) for every invalid input; unknown (preview) values are skipped."""
        check = (
            InputCheck(props)
            .required("plugin_id", "manifest", "version", "core_api_url")
            .plugin_id()
            .rule("version", lambda v: isinstance(v, str) and bool(v), "version must be a non-empty string")
            .rule("manifest", lambda v: isinstance(v, Mapping), "manifest must be an object (the plugin.json)")
            .flags("enabled", "insecure_skip_tls_verify")
            .urls("core_api_url")
        )
        manifest = props.get("manifest")
        if check.known("manifest") and isinstance(manifest, Mapping):
            if not manifest.get("name"):
                check.add("manifest", "manifest.name is required by the Core API")
            for key, source in (("id", "plugin_id"), ("version", "version")):
                held = manifest.get(key)
                if held is not None and not contains_unknown(held) and check.known(source) and held != props[source]:
                    check.add(
                        "manifest", f"manifest.{key} is {held!r} but {source} is {props[source]!r}; they must agree"
                    )
        return check.problems

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> PluginSpec:
        props = plain(props)
        raise_input_problems(props, cls.problems(props), "inputs")
        return cls(
            plugin_id=props["plugin_id"],
            manifest=dict(props["manifest"]),
            version=props["version"],
            core_api_url=str(props["core_api_url"]).rstrip("/"),
            enabled=props.get("enabled", True),
            insecure_skip_tls_verify=props.get("insecure_skip_tls_verify", False),
        )

    def inputs(self) -> dict[str, Any]:
        return {
            "plugin_id": self.plugin_id,
            "manifest": self.manifest,
            "version": self.version,
            "core_api_url": self.core_api_url,
            "enabled": self.enabled,
            "insecure_skip_tls_verify": self.insecure_skip_tls_verify,
        }


def _observed(plugin: Plugin) -> dict[str, Any]:
    return {
        "state": plugin["state"],
        "version": plugin["version"],
        "manifest": plugin["manifest"],
        "created_at": plugin.get("createdAt"),
        "updated_at": plugin.get("updatedAt"),
    }


class PluginRegistrationProvider(CoreApiProvider):
    """Dynamic provider behind `PluginRegistration` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = (
        "plugin_id",
        "core_api_url",
        "manifest",
        "version",
        "enabled",
        "insecure_skip_tls_verify",
    )
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "core_api_url"})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = dict(news)
        inputs.setdefault("enabled", True)
        inputs.setdefault("insecure_skip_tls_verify", False)
        failures = [CheckFailure(key, reason) for key, reason in PluginSpec.problems(plain(inputs))]
        return CheckResult(inputs, failures)

    def _converge(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        spec = PluginSpec.from_props(props)
        with (
            self.guard(plugin_id=spec.plugin_id, step=step),
            self.client(props, plugin_id=spec.plugin_id, step=step) as api,
        ):
            plugin = PluginLifecycle(api, spec.plugin_id).converge(spec.goal, spec.desired_manifest)
        assert plugin is not None
        return {**spec.inputs(), **_observed(plugin)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._converge(props, "create")
        return CreateResult(outputs["plugin_id"], outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(_news, "update"))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = plain(_props)
        plugin_id = str(props.get("plugin_id") or _id)
        with (
            self.guard(plugin_id=plugin_id, step="delete"),
            self.client(props, plugin_id=plugin_id, step="delete") as api,
        ):
            PluginLifecycle(api, plugin_id).converge(LifecycleState.UNINSTALLED)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        plugin_id = str(props.get("plugin_id") or id_)
        with (
            self.guard(plugin_id=plugin_id, step="read"),
            self.client(props, plugin_id=plugin_id, step="read") as api,
        ):
            plugin = PluginLifecycle(api, plugin_id).get()
        if plugin is None or plugin["state"] == LifecycleState.UNINSTALLED:
            return ReadResult("", {})
        outputs = {**self.inputs_to_outputs(props), "plugin_id": plugin_id, **_observed(plugin)}
        return ReadResult(id_, outputs)

    def same(self, key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        if key == "manifest":
            manifest, version = news.get("manifest"), news.get("version")
            if contains_unknown(manifest) or contains_unknown(version) or not isinstance(manifest, dict):
                return False
            desired = {**manifest, "id": news.get("plugin_id"), "version": version}
            return not manifest_differs({"manifest": olds.get("manifest"), "version": olds.get("version")}, desired)
        return super().same(key, olds, news)

    def normalize(self, key: str, value: Any) -> Any:
        if key == "enabled":
            return True if value is None else bool(value)
        return super().normalize(key, value)

    def drift(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        enabled = news.get("enabled", True)
        if contains_unknown(enabled) or "state" not in olds:
            return []
        wanted = LifecycleState.ACTIVE if enabled else LifecycleState.DISABLED
        return [] if olds["state"] == wanted else ["state"]


class PluginRegistration(CoreApiResource, module="plexica", name="PluginRegistration"):
    """A plugin registered, installed and ACTIVE (or DISABLED) in the Core API.

    Outputs echo the inputs except `token`, plus what the Core API holds:
    `state`, `version`, `manifest`, `created_at`, `updated_at`.
    """

    plugin_id: pulumi.Output[str]
    manifest: pulumi.Output[dict[str, Any]]
    version: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    enabled: pulumi.Output[bool]
    insecure_skip_tls_verify: pulumi.Output[bool]
    state: pulumi.Output[str]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        plugin_id: pulumi.Input[str],
        manifest: pulumi.Input[Mapping[str, Any]],
        version: pulumi.Input[str],
        core_api_url: pulumi.Input[str],
        token: pulumi.Input[str],
        enabled: pulumi.Input[bool] = True,
        insecure_skip_tls_verify: pulumi.Input[bool] = False,
        transport: TransportSettings | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "plugin_id": plugin_id,
            "manifest": manifest,
            "version": version,
            "core_api_url": core_api_url,
            "token": token,
            "enabled": enabled,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            "state": None,
            "created_at": None,
            "updated_at": None,
        }
        super().__init__(PluginRegistrationProvider(transport), resource_name, props, opts)
