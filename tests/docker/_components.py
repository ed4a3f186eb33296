"""Running the Docker target under Pulumi mocks, for the component tests."""

from __future__ import annotations

from typing import Any

import pulumi

from plexica_infra.config import StackConfig
from plexica_infra.docker.program import deploy_docker
from plexica_infra.loader import LoadedPlugin
from tests.docker.conftest import CONTAINER, Recorded, make_secrets, run_program, shipped_plugins, unwrap

#: The on_error hook every plugin container carries (`docker/rollback.py`).
HOOK = "plexica-docker-remove-failed-container-plexica"


def deploy(stack: StackConfig, plugins: list[LoadedPlugin] | None = None) -> Recorded:
    def build() -> dict[str, Any]:
        deployed = deploy_docker(plugins or shipped_plugins(), stack, make_secrets())
        outputs: dict[str, Any] = {}
        for pid, plugin in deployed.items():
            outputs[f"{pid}.container_names"] = plugin.container_names
            outputs[f"{pid}.instance_urls"] = plugin.instance_urls
            outputs[f"{pid}.internal_urls"] = plugin.internal_urls
            outputs[f"{pid}.service_url"] = plugin.service_url
            outputs[f"{pid}.revision"] = plugin.revision
            outputs[f"{pid}.spec_revision"] = pulumi.Output.from_input(plugin.specs[0].revision)
        return outputs

    return run_program(build, stack="dev" if stack.docker.external_network else "local")


def container(recorded: Recorded, name: str) -> dict[str, Any]:
    return recorded.named(CONTAINER, name).inputs


def env_of(inputs: dict[str, Any]) -> dict[str, str]:
    entries = unwrap(inputs["envs"])
    return dict(entry.split("=", 1) for entry in entries)


def assigned_ports(recorded: Recorded) -> dict[str, int]:
    """The host port the mock engine assigned to each container."""
    ports = {}
    for registration in recorded.of_type(CONTAINER):
        (port,) = registration.state["ports"]
        ports[registration.name] = int(port["external"])
    return ports
