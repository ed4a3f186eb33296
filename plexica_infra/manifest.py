"""The plugin manifest contract (`plugins/<id>/plugin.json`).

This pydantic model is the single source of truth: the committed JSON Schema at
`plexica_infra/schema/plugin.schema.json` is generated from it
(`python -m plexica_infra schema`), and a test fails when that file is stale.

`runtime`, `api` and `deployment` reject unknown keys, because a typo there
silently breaks a deploy. Any other top-level section (`description`, `category`,
`author`, `metadata`, `permissions`, `config`/`configuration`, `backend`, `frontend`,
`navigation`, `lifecycle`, `hooks`, `translations`, ...) passes through untouched to
the Core API registration: the core owns the rest of the manifest.

Manifests the real platform writes carry no `runtime` and no health paths: `runtime`
is optional (its image then comes from the stack, `plexica:plugins.<id>.image`), the
probe paths default to the guide's, and `api.services` / `api.dependencies` are the
real Core API's own sections. A `required` entry of `api.dependencies` orders the
deploy like `deployment.dependencies` (`dependency_ids`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from plexica_infra._manifest_sections import (
    MAX_ENV_ENTRIES,
    MAX_LIST_LENGTH,
    RESERVED_ENV,
    Api,
    ApiDependency,
    Autoscaling,
    Deployment,
    EgressRule,
    ResourceRequests,
    Resources,
    Runtime,
    RuntimeType,
)
from plexica_infra._validators import PluginId, SafeText, SemVer, field_error

__all__ = [
    "MAX_ENV_ENTRIES",
    "MAX_LIST_LENGTH",
    "RESERVED_ENV",
    "Api",
    "ApiDependency",
    "Autoscaling",
    "Deployment",
    "EgressRule",
    "PluginManifest",
    "ResourceRequests",
    "Resources",
    "Runtime",
    "RuntimeType",
]


class PluginManifest(BaseModel):
    """A plugin manifest: the guide's fields plus the optional `deployment` section."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    id: PluginId = Field(description="Plugin id; equals its folder name under plugins/.")
    name: SafeText = Field(
        min_length=1, max_length=100, description="Human-readable name: no control or bidi characters."
    )
    version: SemVer = Field(description="Plugin version (semver).")
    runtime: Runtime = Field(default_factory=Runtime, description="How the plugin runs (optional).")
    api: Api = Field(default_factory=Api, description="Paths and the real Core API's services/dependencies.")
    deployment: Deployment = Field(default_factory=Deployment, description="Deployment settings.")

    # Field validators (not a model validator) so these run even when other fields are
    # invalid: one run reports every problem.
    @field_validator("api")
    @classmethod
    def _base_path_matches_id(cls, api: Api, info: ValidationInfo) -> Api:
        plugin_id = info.data.get("id")
        expected = f"/api/plugins/{plugin_id}"
        if plugin_id is not None and api.base_path is not None and api.base_path.rstrip("/") != expected:
            raise field_error("/basePath", f"is {api.base_path!r}; it must be {expected!r}")
        if plugin_id is not None and any(dep.plugin_id == plugin_id for dep in api.dependencies or []):
            raise field_error(
                "/dependencies", f"lists the plugin itself ({plugin_id!r}); a plugin cannot depend on itself"
            )
        return api

    @field_validator("deployment")
    @classmethod
    def _no_self_dependency(cls, deployment: Deployment, info: ValidationInfo) -> Deployment:
        plugin_id = info.data.get("id")
        if plugin_id is not None and plugin_id in deployment.dependencies:
            raise field_error(
                "/dependencies", f"lists the plugin itself ({plugin_id!r}); a plugin cannot depend on itself"
            )
        return deployment

    @property
    def dependency_ids(self) -> list[str]:
        """Plugins deployed, registered and installed before this one: `deployment.dependencies`
        then the `required` entries of `api.dependencies`, without repeats."""
        required = [dep.plugin_id for dep in self.api.dependencies or [] if dep.required]
        return list(dict.fromkeys([*self.deployment.dependencies, *required]))

    @property
    def extra_sections(self) -> dict[str, Any]:
        """Top-level sections owned by the Core API, passed through untouched."""
        return dict(self.model_extra or {})

    def registration_document(self, dialect: str = "guide") -> dict[str, Any]:
        """The manifest as the Core API receives it (aliases, passthrough sections kept).

        `plexica-v1`: what the real Core API's strict schema accepts, as written in the file:
        the keys only deployment needs (`runtime`, `deployment`, and in `api` everything
        but `services` and `dependencies`) left out, no defaults filled in.
        """
        if dialect != "plexica-v1":
            return self.model_dump(mode="json", by_alias=True, exclude_none=True)
        written = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        written.pop("runtime", None)
        written.pop("deployment", None)
        api = {
            key: value for key, value in (written.pop("api", None) or {}).items() if key in ("services", "dependencies")
        }
        return {**written, **({"api": api} if api else {})}
