"""The inputs model of each dynamic resource: the single list of its fields.

Health-gate defaults are the stack's (`plexica_infra.config.HealthSettings`): a gate
created without a budget waits exactly as a stack with no `plexica:health` would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from plexica_infra._validators import PluginId
from plexica_infra.config import HealthSettings
from plexica_infra.contract import DEFAULT_LIVENESS_PATH, DEFAULT_READINESS_PATH, LifecycleState
from plexica_infra.providers._inputs._connection import CoreApiConnection, url_problems
from plexica_infra.providers._inputs._fields import (
    Flag,
    HttpPathInput,
    Manifest,
    NonNegativeNumber,
    PositiveNumber,
    Text,
    UrlList,
    WholeNumber,
    non_empty_text,
    url_list,
)
from plexica_infra.providers._inputs._model import Problem, ProviderInputs
from plexica_infra.providers._props import contains_unknown

__all__ = [
    "PROBE_INTERVAL_SECONDS",
    "HealthGateInputs",
    "PluginRecordInputs",
    "PluginRegistrationInputs",
    "ServiceRegistrationInputs",
]

#: Longest wait between two failed probes; the backoff starts at a tenth of a second.
PROBE_INTERVAL_SECONDS = 5.0
_STACK = HealthSettings()
Version = Annotated[str, non_empty_text()]


class HealthGateInputs(ProviderInputs):
    """What a HealthGate waits for: every base URL live, then ready, within the p95 budgets."""

    RESOURCE: ClassVar[str] = "HealthGate"
    OUTPUTS: ClassVar[tuple[str, ...]] = (
        "instances",
        "live_p50_ms",
        "live_p95_ms",
        "ready_p50_ms",
        "ready_p95_ms",
        "checked_at",
        "duration_seconds",
    )

    plugin_id: PluginId
    base_urls: UrlList = Field(description="One per container or pod, reachable from where `pulumi up` runs.")
    liveness_path: HttpPathInput = DEFAULT_LIVENESS_PATH
    readiness_path: HttpPathInput = DEFAULT_READINESS_PATH
    deadline_seconds: PositiveNumber = Field(
        float(_STACK.deadline_seconds), description="plexica:health.deadlineSeconds"
    )
    start_period_seconds: NonNegativeNumber = Field(
        float(_STACK.start_period_seconds), description="Failures before this count for nothing."
    )
    failure_threshold: WholeNumber = Field(_STACK.failure_threshold, description="Consecutive counted failures.")
    live_p95_budget_ms: PositiveNumber = Field(float(_STACK.live_budget_ms), description="The guide: 100 ms.")
    ready_p95_budget_ms: PositiveNumber = Field(float(_STACK.ready_budget_ms), description="The guide: 200 ms.")
    latency_samples: WholeNumber = Field(_STACK.latency_samples, description="Samples per probe after the first 200.")
    probe_interval_seconds: PositiveNumber = PROBE_INTERVAL_SECONDS
    insecure_skip_tls_verify: Flag = False
    revision: Text = Field("", description="Bump it to run the gate again.")

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
        urls = values.get("base_urls", [])
        insecure = values.get("insecure_skip_tls_verify") is True
        return url_problems("base_urls", urls, insecure=insecure, what="base URL", example="http://127.0.0.1:3100")


class _PluginDocument(CoreApiConnection):
    """A plugin's id, manifest and version, which must agree with each other."""

    plugin_id: PluginId
    manifest: Manifest = Field(description="The plugin.json as the Core API takes it.")
    version: Version

    @property
    def desired_manifest(self) -> dict[str, Any]:
        """The manifest as sent to the Core API: `id` and `version` from the inputs."""
        return {**self.manifest, "id": self.plugin_id, "version": self.version}

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        manifest = values.get("manifest")
        if manifest is not None:
            if not manifest.get("name"):
                problems.append(("manifest", "manifest.name is required by the Core API"))
            for key, source in (("id", "plugin_id"), ("version", "version")):
                held, wanted = manifest.get(key), props.get(source)
                if held is not None and not contains_unknown(held) and source in values and held != wanted:
                    problems.append(
                        ("manifest", f"manifest.{key} is {held!r} but {source} is {wanted!r}; they must agree")
                    )
        return problems + super().cross_problems(values, props)


class PluginRecordInputs(_PluginDocument):
    """The plugin registered; its manifest and version are the registration's to change."""

    RESOURCE: ClassVar[str] = "PluginRecord"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("registered_version", "created_at")
    UNDIFFED: ClassVar[frozenset[str]] = frozenset({"manifest", "version"})


class PluginRegistrationInputs(_PluginDocument):
    """The plugin installed and ACTIVE, or DISABLED with `enabled` false."""

    RESOURCE: ClassVar[str] = "PluginRegistration"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("state", "created_at", "updated_at")

    enabled: Flag = Field(True, description="false: installed but DISABLED (plexica:plugins.<id>.enabled).")

    @property
    def goal(self) -> LifecycleState:
        return LifecycleState.ACTIVE if self.enabled else LifecycleState.DISABLED


class ServiceRegistrationInputs(CoreApiConnection):
    """One service of a plugin and its endpoints in the Core API's service registry."""

    RESOURCE: ClassVar[str] = "ServiceRegistration"
    OUTPUTS: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")

    plugin_id: PluginId
    service_name: Annotated[str, non_empty_text("plugin-crm")]
    endpoints: Annotated[list[str], url_list(dedupe=True)] = Field(
        description="Where the Core API reaches the instances; compared without trailing slashes and repeats."
    )
    version: Version = "0.0.0"

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
        insecure = values.get("insecure_skip_tls_verify") is True
        endpoints = url_problems(
            "endpoints",
            values.get("endpoints", []),
            insecure=insecure,
            what="endpoint",
            example="http://127.0.0.1:3100",
        )
        return endpoints + super().cross_problems(values, props)
