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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from plexica_infra.contract import LifecycleState
from plexica_infra.providers._base import CORE_API_KEYS, CoreApiProvider, CoreApiResource, contains_unknown, plain
from plexica_infra.providers._config import TransportSettings
from plexica_infra.providers._exceptions import CoreApiUnreachableError
from plexica_infra.providers._inputs import CoreApiTarget, InputCheck, raise_input_problems
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle, manifest_differs
from plexica_infra.providers.dialects import PluginView

__all__ = ["PluginRegistration", "PluginRegistrationProvider", "PluginSpec", "observed"]


@dataclass(frozen=True)
class PluginSpec:
    """The validated inputs of a PluginRegistration (and of a PluginRecord)."""

    plugin_id: str
    manifest: dict[str, Any]
    version: str
    target: CoreApiTarget
    enabled: bool = True

    @property
    def core_api_url(self) -> str:
        return self.target.core_api_url

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
            .required("plugin_id", "manifest", "version")
            .plugin_id()
            .rule("version", lambda v: isinstance(v, str) and bool(v), "version must be a non-empty string")
            .rule("manifest", lambda v: isinstance(v, Mapping), "manifest must be an object (the plugin.json)")
            .flags("enabled")
            .core_api()
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
    def from_props(cls, props: Mapping[str, Any], step: str = "inputs") -> PluginSpec:
        props = plain(props)
        raise_input_problems(props, cls.problems(props), step)
        return cls(
            plugin_id=props["plugin_id"],
            manifest=dict(props["manifest"]),
            version=props["version"],
            target=CoreApiTarget.from_props(props),
            enabled=props.get("enabled", True),
        )

    def inputs(self) -> dict[str, Any]:
        return {
            "plugin_id": self.plugin_id,
            "manifest": self.manifest,
            "version": self.version,
            "enabled": self.enabled,
            **self.target.inputs(),
        }


def observed(plugin: PluginView) -> dict[str, Any]:
    """The outputs that say what the Core API holds."""
    return {
        "state": plugin.state.value,
        "version": plugin.version,
        "manifest": plugin.manifest,
        "created_at": plugin.created_at,
        "updated_at": plugin.updated_at,
    }


class PluginRegistrationProvider(CoreApiProvider):
    """Dynamic provider behind `PluginRegistration` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = (
        "plugin_id",
        "core_api_url",
        "dialect",
        "manifest",
        "version",
        "enabled",
        "insecure_skip_tls_verify",
        "auth_mode",
        "token_url",
        "client_id",
        "tenant_slug",
    )
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "core_api_url", "dialect"})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = CoreApiTarget.defaults(news)
        inputs.setdefault("enabled", True)
        failures = [CheckFailure(key, reason) for key, reason in PluginSpec.problems(plain(inputs))]
        return CheckResult(inputs, failures)

    def _converge(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        spec = PluginSpec.from_props(props)
        with self.dialect(props, plugin_id=spec.plugin_id, step=step) as dialect:
            plugin = PluginLifecycle(dialect, spec.plugin_id).converge(spec.goal, spec.desired_manifest, step=step)
        assert plugin is not None
        return {**spec.inputs(), **observed(plugin)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._converge(props, "create")
        return CreateResult(outputs["plugin_id"], outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(_news, "update"))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = plain(_props)
        plugin_id = str(props.get("plugin_id") or _id)
        try:
            with self.dialect(props, plugin_id=plugin_id, step="delete", probing=True) as dialect:
                PluginLifecycle(dialect, plugin_id).converge(None, step="delete")
        except CoreApiUnreachableError as exc:
            self.warn(
                f"{exc}; the plugin was NOT uninstalled from the Core API at {props.get('core_api_url')}: "
                "uninstall it there once the Core API is back (or run `pulumi up` then `pulumi destroy` again)"
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        plugin_id = str(props.get("plugin_id") or id_)
        try:
            with self.dialect(props, plugin_id=plugin_id, step="read", probing=True) as dialect:
                lifecycle = PluginLifecycle(dialect, plugin_id)
                plugin = lifecycle.get()
                removed = lifecycle.removed(plugin)
        except CoreApiUnreachableError as exc:
            self.warn(f"{exc}; keeping the last known state of {plugin_id} (drift unknown)")
            return ReadResult(id_, self.inputs_to_outputs(props))
        if removed or plugin is None:
            return ReadResult("", {})
        outputs = {**self.inputs_to_outputs(props), "plugin_id": plugin_id, **observed(plugin)}
        return ReadResult(id_, outputs)

    def same(self, key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        if key == "manifest":
            manifest, version = news.get("manifest"), news.get("version")
            if contains_unknown(manifest) or contains_unknown(version) or not isinstance(manifest, dict):
                return False
            desired = {**manifest, "id": news.get("plugin_id"), "version": version}
            return not manifest_differs(olds.get("manifest"), olds.get("version"), desired)
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
    """A plugin installed and ACTIVE (or DISABLED) in the Core API.

    Outputs echo the inputs except the secrets, plus what the Core API holds:
    `state`, `version`, `manifest`, `created_at`, `updated_at`.
    """

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

    def __init__(
        self,
        resource_name: str,
        *,
        plugin_id: pulumi.Input[str],
        manifest: pulumi.Input[Mapping[str, Any]],
        version: pulumi.Input[str],
        core_api_url: pulumi.Input[str],
        token: pulumi.Input[str] | None = None,
        enabled: pulumi.Input[bool] = True,
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
            "enabled": enabled,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            **dict(zip(CORE_API_KEYS, (dialect, auth_mode, token_url, client_id, tenant_slug), strict=True)),
            "state": None,
            "created_at": None,
            "updated_at": None,
        }
        super().__init__(PluginRegistrationProvider(transport), resource_name, props, opts)
