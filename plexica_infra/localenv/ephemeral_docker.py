"""The ephemeral Docker stack: `EphemeralStack` (`ephemeral.py`) on its own network.

The local stack's shape (Docker settings of `Pulumi.local.yaml`'s kind, images built
locally by `localenv.images`), with observations through docker-py: the stack's plugin
containers as `docker inspect` shows them, Docker's own health status, the network.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import docker
from docker.errors import NotFound
from pulumi import automation as auto

from plexica_infra.localenv.ephemeral import STATE_DIR, EphemeralStack
from plexica_infra.localenv.images import build_plugin_images
from plexica_infra.localenv.toolchain import pulumi_env

__all__ = ["MANAGED_LABEL", "EphemeralProject", "endpoint", "set_version"]

MANAGED_LABEL = "plexica.managed-by=plexica-infra"
#: Bound of the wait for Docker's first scheduled health check.
DOCKER_HEALTH_TIMEOUT_SECONDS = 30.0


def set_version(manifest: dict[str, Any], version: str) -> None:
    """A manifest's version and its image tag move together (a hot swap's version bump)."""
    manifest["version"] = version
    repository = manifest["runtime"]["image"].rsplit(":", 1)[0]
    manifest["runtime"]["image"] = f"{repository}:{version}"


def endpoint(container: dict[str, Any]) -> str:
    """`http://127.0.0.1:<published port>` of a plugin container (its `docker inspect`): the
    URL the service registry holds for it."""
    port = next(var.split("=", 1)[1] for var in container["Config"]["Env"] if var.startswith("PORT="))
    for binding in container["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []:
        if binding["HostIp"] == "127.0.0.1":
            return f"http://127.0.0.1:{binding['HostPort']}"
    raise AssertionError(f"{container['Name']} publishes no 127.0.0.1 port for {port}/tcp")


@dataclass
class EphemeralProject(EphemeralStack):
    """The Docker stack of that shape: its own network, the local images, docker-py to look."""

    docker_host: str = field(kw_only=True)
    network: str = field(default_factory=lambda: f"plexica-e2e-{uuid.uuid4().hex[:8]}", kw_only=True)
    _client: docker.DockerClient | None = field(default=None, init=False, repr=False)

    def stack_config(self) -> dict[str, auto.ConfigValue]:
        docker_settings = {
            "network": self.network,
            "images": "local",
            "registryEndpoints": "host",
            "healthcheckCommand": ["CMD", "/plugin", "healthcheck", "{url}"],
            "healthcheckIntervalSeconds": 2,
        }
        return {
            **super().stack_config(),
            "plexica:target": auto.ConfigValue("docker"),
            "plexica:kafkaBrokers": auto.ConfigValue("redpanda:29092"),
            "plexica:docker": auto.ConfigValue(json.dumps(docker_settings)),
        }

    def environment(self) -> dict[str, str]:
        return pulumi_env(backend=self.root / "backend", docker_host=self.docker_host, passphrase=self.PASSPHRASE)

    def build_images(self) -> None:
        refs = sorted({json.loads(p.read_text())["runtime"]["image"] for p in self.plugins_dir.glob("*/plugin.json")})
        build_plugin_images(refs, docker_host=self.docker_host, state_dir=STATE_DIR)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.DockerClient(base_url=self.docker_host, timeout=60)
        return self._client

    def containers(self, plugin_id: str | None = None, *, all_states: bool = False) -> list[dict[str, Any]]:
        """`docker inspect` of this stack's plugin containers (on this project's network)."""
        labels = [MANAGED_LABEL, *([f"plexica.plugin={plugin_id}"] if plugin_id is not None else [])]
        filters: dict[str, str | list[str] | bool] = {"label": labels, "network": self.network}
        found = self.client.containers.list(all=all_states, ignore_removed=True, filters=filters)
        return [dict(container.attrs) for container in found]

    def only_container(self, plugin_id: str) -> dict[str, Any]:
        """The plugin's single container (any state); an AssertionError with the list otherwise."""
        found = self.containers(plugin_id, all_states=True)
        assert len(found) == 1, [(c["Name"], c["State"]["Status"]) for c in found]
        return found[0]

    def inspect(self, container_id: str) -> dict[str, Any] | None:
        """`docker inspect` of one container, None when it does not exist."""
        try:
            return dict(self.client.containers.get(container_id).attrs)
        except NotFound:
            return None

    def container_exists(self, container_id: str) -> bool:
        return self.inspect(container_id) is not None

    def remove_container(self, container_id: str) -> None:
        self.client.containers.get(container_id).remove(force=True, v=True)

    def docker_health(self, container_id: str, *, timeout: float = DOCKER_HEALTH_TIMEOUT_SECONDS) -> str:
        """Docker's own health status of a container, once Docker has checked it at least once.

        Our provider's `wait` runs the container's health command itself (through exec), so
        `up` returns before Docker's first scheduled check (one interval; engine 20.10 ignores
        `start_interval`), when Docker still says "starting". Waits, bounded, for that first
        check and returns its verdict.
        """
        deadline = time.monotonic() + timeout
        while True:
            container = self.inspect(container_id)
            if container is None:
                return "removed"
            status: str = container["State"]["Health"]["Status"]
            if status != "starting" or time.monotonic() > deadline:
                return status
            time.sleep(0.25)

    def network_exists(self) -> bool:
        try:
            self.client.networks.get(self.network)
        except NotFound:
            return False
        return True

    def remove_network_leftovers(self) -> None:
        """Best effort: containers still on this project's network, then the network."""
        for container in self.client.containers.list(all=True, filters={"network": self.network}):
            container.remove(force=True, v=True)
        if self.network_exists():
            self.client.networks.get(self.network).remove()
