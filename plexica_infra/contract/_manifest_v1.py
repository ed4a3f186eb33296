"""The registration document the real Core API accepts (plexica-v1), as a pydantic model.

Written from `apps/core-api/src/schemas/plugin-manifest.schema.ts` (strict revision:
unknown top-level keys refused) and the extra checks of `validateManifest` in
`apps/core-api/src/services/plugin.service.ts` (category, metadata.license,
metadata.author.name, description 10-1000 characters, name 3-255, version x.y.z).
The emulator's plexica-v1 dialect refuses what this refuses, and `validate --stack`
checks every manifest's registration document against it before anything deploys.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["V1_PLUGIN_ID", "V1Manifest", "v1_manifest_problems"]

V1_PLUGIN_ID = re.compile(r"^plugin-[a-z0-9-]+$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[a-zA-Z0-9.-]+)?(\+[a-zA-Z0-9.-]+)?$")
_STRICT_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_RANGE_ONE = r"(\^|~|>=|>|<=|<|=)?\d+\.\d+\.\d+(-[a-zA-Z0-9.-]+)?"
_SEMVER_RANGE = re.compile(rf"^{_RANGE_ONE}(\s*\|\|\s*{_RANGE_ONE})*$")
_SERVICE_NAME = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")
_ENDPOINT_PATH = re.compile(r"^/[a-zA-Z0-9\-_/:*]*$")
_NAMESPACE = re.compile(r"^[a-z0-9-]+$")
_LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


_PluginId = Annotated[str, _matching(V1_PLUGIN_ID, "a plexica-v1 plugin id (plugin-<name>, lowercase)")]
_Version = Annotated[str, _matching(_SEMVER, "a semantic version such as '1.0.0'")]
_Range = Annotated[str, _matching(_SEMVER_RANGE, "a version range such as '^1.0.0'")]
_ServiceName = Annotated[str, _matching(_SERVICE_NAME, "a service name '<plugin>.<resource>' (e.g. 'crm.contacts')")]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Endpoint(_Open):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: Annotated[str, _matching(_ENDPOINT_PATH, "an endpoint path starting with '/'")]
    description: str | None = None
    permissions: list[str] | None = None
    metadata: dict[str, Any] | None = None


class _Service(_Closed):
    name: _ServiceName
    version: _Version
    base_url: str | None = Field(None, alias="baseUrl")
    description: Annotated[str, Field(max_length=500)] | None = None
    endpoints: Annotated[list[_Endpoint], Field(min_length=1)]
    metadata: dict[str, Any] | None = None


class _Dependency(_Closed):
    plugin_id: _PluginId = Field(alias="pluginId")
    service_name: _ServiceName | None = Field(None, alias="serviceName")
    version: _Range
    required: bool
    reason: Annotated[str, Field(max_length=500)] | None = None


class _Api(_Closed):
    services: list[_Service] | None = None
    dependencies: list[_Dependency] | None = None


class _Translations(_Closed):
    namespaces: Annotated[list[Annotated[str, _matching(_NAMESPACE, "a namespace")]], Field(min_length=1)]
    supported_locales: Annotated[list[Annotated[str, _matching(_LOCALE, "a locale")]], Field(min_length=1)] = Field(
        alias="supportedLocales"
    )


class _ConfigField(_Open):
    key: str
    type: Literal["string", "number", "boolean", "select", "text", "password", "json"]
    label: str | None = None


class _Permission(_Open):
    resource: str
    action: str
    description: str


class _NavigationItem(_Open):
    label: str
    path: str
    icon: str | None = None


class _Lifecycle(_Open):
    install: str | None = None
    uninstall: str | None = None
    activate: str | None = None
    deactivate: str | None = None
    update: str | None = None


class _Hooks(_Open):
    on_install: str | None = Field(None, alias="onInstall")
    on_uninstall: str | None = Field(None, alias="onUninstall")
    on_enable: str | None = Field(None, alias="onEnable")
    on_disable: str | None = Field(None, alias="onDisable")
    on_update: str | None = Field(None, alias="onUpdate")


class V1Manifest(_Closed):
    """`PluginManifestSchema` (strict), then `validateManifest`'s own requirements."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: _PluginId
    name: Annotated[str, Field(min_length=3, max_length=100)]
    version: _Version
    description: Annotated[str, Field(min_length=10, max_length=1000)]
    category: Annotated[str, Field(min_length=1)]
    author: Annotated[str, Field(max_length=200)] | None = None
    license: Annotated[str, Field(max_length=50)] | None = None
    homepage: str | None = None
    repository: str | None = None
    api: _Api | None = None
    translations: _Translations | None = None
    config: list[_ConfigField] | None = None
    configuration: list[_ConfigField] | None = None
    permissions: list[_Permission] | None = None
    navigation: list[_NavigationItem] | None = None
    backend: Any = None
    frontend: Any = None
    entry_points: dict[str, Any] | None = Field(None, alias="entryPoints")
    dependencies: dict[str, str] | None = None
    lifecycle: _Lifecycle | None = None
    hooks: _Hooks | None = None
    metadata: dict[str, Any]

    @model_validator(mode="after")
    def _service_checks(self) -> V1Manifest:
        if not _STRICT_SEMVER.fullmatch(self.version):
            raise ValueError(f"version {self.version!r} must be exactly MAJOR.MINOR.PATCH (validateManifest)")
        if not self.metadata.get("license"):
            raise ValueError("metadata.license is required (validateManifest)")
        author = self.metadata.get("author")
        if not (isinstance(author, dict) and author.get("name")):
            raise ValueError("metadata.author.name is required (validateManifest)")
        return self


def v1_manifest_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON pointer, message) for everything the real Core API would refuse in `document`."""
    try:
        V1Manifest.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            pointer = "".join(f"/{part}" for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "is not accepted by the plexica-v1 Core API (its manifest schema is strict)"
            elif error["type"] == "missing":
                message = "is required by the plexica-v1 Core API"
            problems.append((pointer, message))
        return problems
    return []
