"""Helpers of the hot-swap e2e tests (`test_hot_swap.py`): one stack, the crm plugin, the
gateway's `info` route polled (`plexica_infra.localenv.gateway_poller`: status, upstream and
version of every answer) while `up` runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi import automation as auto

from plexica_infra.localenv.ephemeral_docker import endpoint
from plexica_infra.localenv.gateway_poller import POLL_MAX_REQUESTS, POLL_MAX_SECONDS, GatewayPoller
from tests.e2e._project import EphemeralProject

PLUGIN = "crm"
#: After `up` returns, keep polling this long to see where the gateway routes now.
POLL_LINGER_SECONDS = 1.0
#: The transport's retry budget: 6 tries per Core API call (providers/_config.py).
RETRY_MAX_ATTEMPTS = 6


def only_container(project: EphemeralProject, plugin_id: str = PLUGIN) -> dict[str, Any]:
    """The plugin's single container (any state), failing with the list otherwise."""
    return project.only_container(plugin_id)


def registered_endpoints(project: EphemeralProject, plugin_id: str = PLUGIN) -> list[str]:
    with project.emulator.client() as client:
        response = client.get("/api/v1/service-registry/services", params={"pluginId": plugin_id})
    response.raise_for_status()
    return [url for service in response.json()["services"] for url in service["endpoints"]]


def core_state(project: EphemeralProject, plugin_id: str = PLUGIN) -> tuple[str, str]:
    plugin = project.core_plugin(plugin_id)
    assert plugin is not None, f"the Core API does not know {plugin_id}"
    return plugin["state"], plugin["version"]


def next_patch(version: str) -> str:
    major, minor, patch = (int(part) for part in version.split("-")[0].split("+")[0].split("."))
    return f"{major}.{minor}.{patch + 1}"


def assert_no_secrets(project: EphemeralProject, *texts: str) -> None:
    joined = "\n".join(texts)
    leaked = [key for key, value in project.secrets().items() if value in joined]
    assert leaked == [], f"secret values of {leaked} appear in the output"


def up_while_polling(project: EphemeralProject, log: list[str]) -> tuple[auto.UpResult, GatewayPoller]:
    """`project.up()` with the gateway polled from before it starts until just after it ends."""
    with GatewayPoller(project.gateway_url(PLUGIN, "info"), headers=project.admin_headers()) as poller:
        poller.wait_for_samples(3)
        result = project.up(log)
        poller.linger(POLL_LINGER_SECONDS)
    return result, poller


def failed_up_while_polling(project: EphemeralProject, log: list[str]) -> tuple[auto.CommandError, GatewayPoller]:
    """`project.up()`, which must fail, with the gateway polled throughout."""
    with GatewayPoller(project.gateway_url(PLUGIN, "info"), headers=project.admin_headers()) as poller:
        poller.wait_for_samples(3)
        with pytest.raises(auto.CommandError) as info:
            project.up(log)
        poller.linger(POLL_LINGER_SECONDS)
    return info.value, poller


def assert_covered(poller: GatewayPoller) -> None:
    assert not poller.exhausted, (
        f"the gateway poller hit its bound ({POLL_MAX_REQUESTS} requests / {POLL_MAX_SECONDS:.0f} s) before "
        f"`up` finished, so availability over the whole update is not proven: {poller.describe()}"
    )


def current_faults(project: EphemeralProject) -> dict[str, Any]:
    with project.emulator.client() as client:
        response = client.get("/_emulator/faults")
    response.raise_for_status()
    faults: dict[str, Any] = response.json()
    return faults


@dataclass(frozen=True)
class Deployed:
    result: auto.UpResult
    seconds: float
    log: list[str]


@pytest.fixture(scope="module", name="deployed")
def deployed_fixture(project: EphemeralProject) -> Iterator[Deployed]:
    """The shipped plugins, up (once per test module that imports this fixture)."""
    log: list[str] = []
    started = time.monotonic()
    result = project.up(log)
    yield Deployed(result, time.monotonic() - started, log)


__all__ = [
    "PLUGIN",
    "RETRY_MAX_ATTEMPTS",
    "Deployed",
    "assert_covered",
    "assert_no_secrets",
    "core_state",
    "current_faults",
    "deployed_fixture",
    "endpoint",
    "failed_up_while_polling",
    "next_patch",
    "only_container",
    "registered_endpoints",
    "up_while_polling",
]
