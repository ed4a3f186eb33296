"""The plexica network that plugins, the Core API and the data stores share.

A user-defined bridge network has Docker's embedded DNS, so plugins reach each
other and the platform by name (`plugin-crm:3100`, `core-api:3000`). With
`externalNetwork: true` the network belongs to the platform's compose stack (the
guide's `external: true`): it is only referenced by name and never created or
deleted here, and a missing network fails the first container create with
Docker's "network ... not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plexica_infra.config import DockerSettings
from plexica_infra.docker.labels import managed_labels

__all__ = ["NetworkSpec", "network_spec"]


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    #: True: reference the existing network by name; False: create it.
    external: bool
    driver: str = "bridge"
    labels: dict[str, str] = field(default_factory=managed_labels)


def network_spec(settings: DockerSettings) -> NetworkSpec:
    return NetworkSpec(name=settings.network, external=settings.external_network)
