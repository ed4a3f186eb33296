"""The sections of a plugin manifest: `runtime`, `api` and `deployment`.

Each rejects unknown keys (a typo there silently breaks a deploy) and states every
default and why. `manifest.py` assembles them into `PluginManifest` and re-exports them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    field_error,
)
from plexica_infra.quantities import MIN_CPU_MILLICORES, MIN_MEMORY_BYTES, parse_cpu, parse_memory

__all__ = [
    "MAX_ENV_ENTRIES",
    "MAX_LIST_LENGTH",
    "RESERVED_ENV",
    "Api",
    "ApiDependency",
    "Autoscaling",
    "Deployment",
    "EgressRule",
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
