"""A plugin container as plain data: the hardening and logging constants every instance
shares, the `ContainerSpec` the component turns into a `docker.Container`, and the
revision hash that names a spec. Pure: no Pulumi, no engine. `container.py` builds the
specs from a manifest and a stack and explains the choices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from plexica_infra.docker.env import EnvVar
from plexica_infra.docker.labels import INSTANCE_LABEL, REVISION_LABEL
from plexica_infra.quantities import docker_cpus

__all__ = [
    "CAP_DROP",
    "HEALTH_INTERVAL",
    "HEALTH_START_INTERVAL",
    "HEALTH_TIMEOUT",
    "LOG_DRIVER",
    "LOG_OPTS",
    "REPLACE_ON_INIT_ERRORS",
    "RESTART_POLICY",
    "RUN_AS_USER",
    "SECURITY_OPTS",
    "TMPFS",
    "ContainerSpec",
    "Healthcheck",
    "PortSpec",
    "provider_cpus",
    "revision",
]

#: The guide's Dockerfile user (`adduser -u 1001`); the reference image runs as 1001:1001.
RUN_AS_USER = "1001:1001"
#: The guide's healthcheck timings.
HEALTH_INTERVAL = "30s"
HEALTH_TIMEOUT = "10s"
#: Check every 2 s during the start period (Docker >= 25), so `pulumi up` sees a healthy
#: plugin after seconds instead of after the first 30 s interval.
HEALTH_START_INTERVAL = "2s"
#: The guide's FAQ: the orchestrator restarts a crashed plugin.
RESTART_POLICY = "unless-stopped"
#: Rotated so that a chatty plugin cannot fill the host's disk: at most 3 x 10 MB.
LOG_DRIVER = "json-file"
LOG_OPTS: Mapping[str, str] = {"max-size": "10m", "max-file": "3"}
#: The root filesystem is read-only; /tmp is the plugin's scratch space, bounded like the
#: Kubernetes emptyDir, and never executable.
TMPFS: Mapping[str, str] = {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
CAP_DROP = ("ALL",)
SECURITY_OPTS = ("no-new-privileges:true",)
_REVISION_LENGTH = 12
#: `replace_on_changes` for plugin containers: replace one left with initialization
#: errors by a failed health wait (see "Rollback" in `container.py`).
REPLACE_ON_INIT_ERRORS = ("#initerror",)


@dataclass(frozen=True)
class Healthcheck:
    tests: tuple[str, ...]
    interval: str
    timeout: str
    start_period: str
    start_interval: str
    retries: int


@dataclass(frozen=True)
class PortSpec:
    internal: int
    #: Host address the port is published on; the host port is left to Docker.
    ip: str
    protocol: str = "tcp"


@dataclass(frozen=True)
class ContainerSpec:
    """One container instance, as plain data; the component adds the image id, the
    network name and the secret env values, which are Outputs."""

    resource_name: str
    instance: int
    revision: str
    image: str
    env: tuple[EnvVar, ...]
    labels: Mapping[str, str]
    network: str
    aliases: tuple[str, ...]
    ports: tuple[PortSpec, ...]
    healthcheck: Healthcheck
    cpus: str
    memory_mib: int
    memory_swap_mib: int
    memory_reservation_mib: int
    user: str
    read_only: bool
    tmpfs: Mapping[str, str]
    cap_drop: tuple[str, ...]
    security_opts: tuple[str, ...]
    restart: str
    log_driver: str
    log_opts: Mapping[str, str]
    wait: bool
    wait_timeout_seconds: int
    stop_grace_seconds: int
    #: Extra /etc/hosts entries (name, IP or 'host-gateway').
    hosts: tuple[tuple[str, str], ...] = ()


def provider_cpus(millicores: int) -> str:
    """Docker `cpus` as terraform-provider-docker reads it back from NanoCpus (its
    `nanoInt64ToDecimalString`): "0.5", "1.5", and whole cores with one decimal, "1.0"."""
    text = docker_cpus(millicores)
    return text if "." in text else f"{text}.0"


def revision(spec: ContainerSpec) -> str:
    """Short hash of everything that defines a container except its instance number.

    Secret values are not in the spec (only which secret each variable takes), so the
    hash reveals nothing about them; rotating a secret replaces the containers (their
    `envs` change) under the same revision.
    """
    data = asdict(replace(spec, resource_name="", instance=0, revision=""))
    if not spec.hosts:  # added later: stacks without extra hosts keep their revisions
        data.pop("hosts")
    data["labels"] = {k: v for k, v in spec.labels.items() if k not in (REVISION_LABEL, INSTANCE_LABEL)}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:_REVISION_LENGTH]
