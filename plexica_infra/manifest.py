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

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from plexica_infra._validators import (
    CidrBlock,
    CpuQuantity,
    DestinationPort,
    EnvName,
    EnvValue,
    HttpPath,
    ImageReference,
    MemoryQuantity,
    PluginId,
    Port,
    SafeText,
    SemVer,
    field_error,
)
from plexica_infra.quantities import MIN_CPU_MILLICORES, MIN_MEMORY_BYTES, parse_cpu, parse_memory

__all__ = [
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

RuntimeType = Literal["typescript", "node"]

#: Longest list (dependencies, egress rules, ports) a manifest may hold.
MAX_LIST_LENGTH = 64
#: Most `deployment.env` entries a manifest may set.
MAX_ENV_ENTRIES = 128

#: Environment variables the deployment sets itself (the guide's FAQ list, PORT, and
#: READY_DEPENDENCIES: the dependencies' liveness URLs the readiness check probes);
#: a manifest may not override them, because that would bypass stack secrets.
RESERVED_ENV = frozenset(
    {
        "PLUGIN_ID",
        "PLUGIN_VERSION",
        "DATABASE_URL",
        "REDIS_URL",
        "CORE_API_URL",
        "KAFKA_BROKERS",
        "JWT_SECRET",
        "LOG_LEVEL",
        "NODE_ENV",
        "PORT",
        "READY_DEPENDENCIES",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ResourceRequests(_Strict):
    cpu: CpuQuantity | None = Field(
        None, description="CPU request. Default: half the CPU limit (the guide pairs 250m with 500m)."
    )
    memory: MemoryQuantity | None = Field(
        None, description="Memory request. Default: half the memory limit (the guide pairs 256Mi with 512Mi)."
    )


class Resources(_Strict):
    cpu: CpuQuantity = Field(
        "500m",
        description="CPU limit, enforced on every target. Default: 500m, the guide's compose and Kubernetes example, "
        "so that no plugin ever runs unbounded.",
    )
    memory: MemoryQuantity = Field(
        "512Mi", description="Memory limit, enforced on every target. Default: 512Mi, the guide's example."
    )
    requests: ResourceRequests = Field(
        default_factory=ResourceRequests, description="Requests/reservations. Default: half the limits."
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        if self.requests.cpu is not None and parse_cpu(self.requests.cpu) > parse_cpu(self.cpu):
            raise field_error("/requests/cpu", f"request {self.requests.cpu!r} is above the CPU limit {self.cpu!r}")
        if self.requests.memory is not None and parse_memory(self.requests.memory) > parse_memory(self.memory):
            raise field_error(
                "/requests/memory", f"request {self.requests.memory!r} is above the memory limit {self.memory!r}"
            )
        return self

    @property
    def cpu_millicores(self) -> int:
        return parse_cpu(self.cpu)

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)

    @property
    def cpu_request_millicores(self) -> int:
        if self.requests.cpu is not None:
            return parse_cpu(self.requests.cpu)
        return max(MIN_CPU_MILLICORES, self.cpu_millicores // 2)

    @property
    def memory_request_bytes(self) -> int:
        if self.requests.memory is not None:
            return parse_memory(self.requests.memory)
        # Half the limit, but never below what Docker accepts as a reservation.
        return max(MIN_MEMORY_BYTES, self.memory_bytes // 2)


class Runtime(_Strict):
    type: RuntimeType | None = Field(None, description="Runtime environment of the plugin process.")
    image: ImageReference | None = Field(
        None,
        description="Container image with an explicit tag or digest. Default: the stack's "
        "plexica:plugins.<id>.image (real Plexica manifests name no image); one of the two is required.",
    )
    resources: Resources = Field(default_factory=Resources, description="CPU and memory limits and requests.")


class ApiDependency(BaseModel):
    """An `api.dependencies` entry of the real Core API: another plugin's API this one calls."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    plugin_id: PluginId = Field(alias="pluginId", description="The plugin depended on.")
    version: str = Field(description="Version range of that plugin, e.g. '^1.0.0'.")
    required: bool = Field(
        description="A required dependency is deployed, registered and installed first (like "
        "deployment.dependencies); an optional one only informs the Core API."
    )


class Api(_Strict):
    base_path: HttpPath | None = Field(
        None, alias="basePath", description="Must be /api/plugins/<id>. Default: that path."
    )
    health_check: HttpPath = Field(
        "/health", alias="healthCheck", description="Full health endpoint. Default /health, the guide's."
    )
    readiness: HttpPath | None = Field(
        None,
        description="Readiness probe path. Default: healthCheck + '/ready' (/health -> /health/ready), which "
        "reconciles the guide's field table with its MUST-implement /health/ready.",
    )
    liveness: HttpPath | None = Field(
        None, description="Liveness probe path. Default: healthCheck + '/live' (/health -> /health/live)."
    )
    openapi: HttpPath | None = Field(None, description="OpenAPI document path, if the plugin serves one.")
    services: list[dict[str, Any]] | None = Field(
        None, description="The real Core API's service declarations ({name, version, endpoints}); passed through."
    )
    dependencies: list[ApiDependency] | None = Field(
        None, description="Other plugins' APIs this plugin calls; `required` ones are deployed first."
    )

    @property
    def readiness_path(self) -> str:
        return self.readiness or f"{self.health_check.rstrip('/')}/ready"

    @property
    def liveness_path(self) -> str:
        return self.liveness or f"{self.health_check.rstrip('/')}/live"


class Autoscaling(_Strict):
    enabled: bool = Field(True, description="Create a HorizontalPodAutoscaler (Kubernetes only). Default: on.")
    min_replicas: int = Field(2, alias="minReplicas", ge=1, le=100, description="Default 2, the guide's HPA.")
    max_replicas: int = Field(10, alias="maxReplicas", ge=1, le=100, description="Default 10, the guide's HPA.")
    cpu_utilization: int = Field(
        80, alias="cpuUtilization", ge=1, le=100, description="Target CPU utilization %. Default 80, the guide."
    )
    memory_utilization: int = Field(
        85, alias="memoryUtilization", ge=1, le=100, description="Target memory utilization %. Default 85."
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise field_error(
                "/minReplicas",
                f"minReplicas ({self.min_replicas}) must not exceed maxReplicas ({self.max_replicas})",
            )
        return self


class EgressRule(_Strict):
    to: CidrBlock = Field(description="Destination IP address or CIDR block.")
    ports: list[DestinationPort] = Field(
        min_length=1,
        max_length=MAX_LIST_LENGTH,
        description=f"Destination ports, e.g. 443 (at most {MAX_LIST_LENGTH}).",
    )
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="Default TCP.")


class Deployment(_Strict):
    """Deployment settings the guide implies but never names; all optional."""

    port: Port = Field(
        3100,
        description="Container port the plugin listens on (env PORT). Default 3100, the guide's first "
        "plugin port. Plugins may share a port: Docker publishes each container on its own ephemeral "
        "host port and every pod has its own IP.",
    )
    dependencies: list[PluginId] = Field(
        default_factory=list,
        max_length=MAX_LIST_LENGTH,
        description="Plugin ids that must be healthy before this one starts (the guide's analytics needs crm).",
    )
    replicas: int | None = Field(
        None,
        ge=1,
        le=100,
        description="Instances. Default: the stack's defaultReplicas (1 on Docker, 2 on "
        "Kubernetes); a stack's per-plugin override wins over this.",
    )
    autoscaling: Autoscaling = Field(default_factory=Autoscaling, description="HPA settings (Kubernetes).")
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        max_length=MAX_ENV_ENTRIES,
        description="Plugin-specific non-secret environment variables, added after the platform's own "
        f"(at most {MAX_ENV_ENTRIES}).",
    )
    egress: list[EgressRule] = Field(
        default_factory=list,
        max_length=MAX_LIST_LENGTH,
        description="Extra destinations the plugin must reach, beyond the platform's: inside the stack's "
        "plexica:egressAllowed, never 0.0.0.0/0, ::/0, loopback, link-local or metadata ranges. Enforced by "
        "the Kubernetes NetworkPolicy only; Docker stacks do not restrict egress.",
    )
    metrics_path: HttpPath = Field(
        "/metrics", alias="metricsPath", description="Prometheus metrics path. Default /metrics, the guide's."
    )

    @model_validator(mode="after")
    def _no_reserved_env(self) -> Deployment:
        reserved = sorted(set(self.env) & RESERVED_ENV)
        if reserved:
            raise field_error(
                f"/env/{reserved[0]}",
                f"env sets {', '.join(reserved)}, which the platform sets itself; remove "
                f"{'it' if len(reserved) == 1 else 'them'} (secrets come from stack config)",
            )
        return self


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
