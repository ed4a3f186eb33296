"""Stack settings for the Docker target (`plexica:docker`)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DockerSettings"]


class DockerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str | None = Field(
        None,
        description="Docker engine address (unix:// or tcp://). Default: DOCKER_HOST or the default socket.",
    )
    network: str = Field("plexica-network", description="Network the plugins join. Default: the guide's name.")
    extra_hosts: dict[str, str] = Field(
        default_factory=dict,
        alias="extraHosts",
        description="Extra /etc/hosts entries of every plugin container: name -> IP, or 'host-gateway' "
        "(Docker >= 20.10: this host's bridge address), e.g. {'host.docker.internal': 'host-gateway'} so "
        "plugins reach a Core API running on this host. Default none.",
    )
    external_network: bool = Field(
        False,
        alias="externalNetwork",
        description="Adopt an existing network instead of creating it (the guide's compose uses external: true). "
        "Default false, so a fresh engine works without manual steps.",
    )
    bind_address: str = Field(
        "127.0.0.1",
        alias="bindAddress",
        description="Host address published ports bind to. Default 127.0.0.1, so nothing is exposed off-host.",
    )
    images: Literal["pull", "local"] = Field(
        "pull",
        description="'pull': pull images by reference. 'local': use images already built or loaded into the "
        "engine (no registry). Default pull.",
    )
    healthcheck_command: list[str] = Field(
        default_factory=lambda: ["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "{url}"],
        alias="healthcheckCommand",
        description="Container healthcheck; '{url}' becomes the liveness URL inside the container. Default: the "
        "guide's wget probe.",
    )
    health_timeout_seconds: int = Field(
        180,
        alias="healthTimeoutSeconds",
        ge=10,
        le=3600,
        description="How long `pulumi up` waits for a container to become healthy. Default 180 s: the guide's "
        "start_period (40 s) plus 3 failed 30 s intervals with margin.",
    )
    registry_endpoints: Literal["network", "host"] = Field(
        "network",
        alias="registryEndpoints",
        description="Which address of each instance the Core API service registry gets. 'network': "
        "http://<container>:<port> on the plexica network, for a Core API running in a container there "
        "(the guide's compose). 'host': the published 127.0.0.1 port, for a Core API on the host (the local "
        "stack's emulator). Default network.",
    )
    healthcheck_interval_seconds: int = Field(
        30,
        alias="healthcheckIntervalSeconds",
        ge=1,
        le=300,
        description="Seconds between container healthchecks. Default 30 s, the guide's. Engines older than "
        "Docker 25 ignore the fast start interval, so a local stack on such an engine sets a short interval to "
        "report a healthy plugin in seconds rather than after the first 30 s.",
    )
    stop_grace_seconds: int = Field(
        30,
        alias="stopGraceSeconds",
        ge=0,
        le=600,
        description="Seconds a replaced or destroyed container gets between SIGTERM and SIGKILL. Default 30 s: "
        "the reference plugin drains in-flight requests for up to 25 s, and Kubernetes' default grace is 30 s.",
    )

    @field_validator("bind_address")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address; use 127.0.0.1 (this host only, the default) or 0.0.0.0 "
                "(every interface)"
            ) from None

    @field_validator("healthcheck_command")
    @classmethod
    def _docker_test(cls, value: list[str]) -> list[str]:
        if len(value) < 2 or value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(
                f"{value!r} is not a Docker healthcheck test; start with 'CMD' (exec form, e.g. "
                '["CMD", "/plugin", "healthcheck", "{url}"]) or \'CMD-SHELL\' followed by a command'
            )
        return value
