"""Stack settings for the Docker target (`plexica:docker`)."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plexica_infra._validators import is_local_host, shown, unsafe_character

__all__ = ["DockerSettings"]


class DockerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str | None = Field(
        None,
        max_length=1024,
        description="Docker engine address: unix:///path, or tcp:// to this host (127.0.0.1, ::1, localhost). "
        "Default: DOCKER_HOST or the default socket. A remote engine is refused: the plugins' secret env "
        "would cross the network in cleartext, and the Docker provider speaks only plain HTTP.",
    )
    network: str = Field(
        "plexica-network",
        max_length=128,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$",  # Rust regex: `$` is the end of the text
        description="Network the plugins join. Default: the guide's name.",
    )
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
        description="Host address published ports bind to. Default 127.0.0.1, so nothing is exposed off-host; "
        "any other address needs allowPublicBind.",
    )
    allow_public_bind: bool = Field(
        False,
        alias="allowPublicBind",
        description="Accept a non-loopback bindAddress: every plugin port is then reachable from the network "
        "directly, bypassing the gateway. Default false.",
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
                f"{shown(value)} is not an IP address; use 127.0.0.1 (this host only, the default) or 0.0.0.0 "
                "(every interface, with allowPublicBind)"
            ) from None

    @field_validator("host")
    @classmethod
    def _local_engine(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if unsafe_character(value) is not None or any(c.isspace() for c in value):
            raise ValueError(f"{shown(value)} holds whitespace or control characters")
        parsed = urlparse(value)
        if parsed.scheme == "unix" and parsed.path:
            return value
        if parsed.scheme == "tcp" and parsed.hostname and is_local_host(parsed.hostname):
            return value
        if parsed.scheme in ("tcp", "http", "https", "ssh"):
            raise ValueError(
                f"{shown(value)} is a remote Docker engine: plugin containers carry the stack's secrets in "
                "their env, which would cross the network, and this project's Docker provider speaks only "
                "plain HTTP (no TLS, no SSH). Run pulumi on the engine's host, or forward its socket over SSH "
                "(ssh -nNT -L /tmp/plexica-docker.sock:/var/run/docker.sock user@host) and set "
                "unix:///tmp/plexica-docker.sock"
            )
        raise ValueError(
            f"{shown(value)} is not a Docker host; use unix:///var/run/docker.sock or tcp://127.0.0.1:2375"
        )

    @model_validator(mode="after")
    def _public_bind_is_explicit(self) -> DockerSettings:
        if not ipaddress.ip_address(self.bind_address).is_loopback and not self.allow_public_bind:
            raise ValueError(
                f"bindAddress {self.bind_address} publishes every plugin port beyond this host, bypassing the "
                "gateway; use 127.0.0.1, or set allowPublicBind: true to accept that"
            )
        return self

    @field_validator("healthcheck_command")
    @classmethod
    def _docker_test(cls, value: list[str]) -> list[str]:
        if any(unsafe_character(part) is not None for part in value) or len(value) > 64:
            raise ValueError("holds control characters or more than 64 parts")
        if len(value) < 2 or value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError(
                f"{value!r} is not a Docker healthcheck test; start with 'CMD' (exec form, e.g. "
                '["CMD", "/plugin", "healthcheck", "{url}"]) or \'CMD-SHELL\' followed by a command'
            )
        return value
