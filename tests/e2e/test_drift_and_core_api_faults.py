"""Drift repair and Core API faults around updates, end to end.

Real processes over real sockets: the Pulumi engine, our providers, dockerd, the reference
plugin image and the Core API emulator (with its fault plan). `up` repairs what was changed
by hand (a plugin disabled, a container removed), retries Core API 503s within its budget,
gives up with one clear line past it, and a refresh against an unavailable Core API changes
nothing. The tests share one ephemeral stack and run in file order; each reads the state it
starts from. Helpers: `_hot_swap.py`.
"""

from __future__ import annotations

import re

import pytest
from pulumi import automation as auto

from tests.e2e._hot_swap import (
    PLUGIN,
    RETRY_MAX_ATTEMPTS,
    Deployed,
    assert_no_secrets,
    core_state,
    current_faults,
    deployed_fixture,  # noqa: F401  (the `deployed` fixture)
    endpoint,
    only_container,
    registered_endpoints,
)
from tests.e2e._project import EphemeralProject

pytestmark = pytest.mark.e2e


def test_up_repairs_a_plugin_disabled_by_hand(project: EphemeralProject, deployed: Deployed) -> None:
    version = project.manifest(PLUGIN)["version"]
    container = only_container(project)["Id"]
    with project.emulator.client() as client:
        response = client.post(f"/api/v1/plugins/{PLUGIN}/disable")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "DISABLED"
    response = project.gateway(PLUGIN)
    assert response.status_code == 404 and response.json()["error"] == "not_found", response.text

    result = project.up()
    assert result.summary.result == "succeeded"
    assert (result.summary.resource_changes or {}).get(auto.OpType.UPDATE, 0) >= 1, result.summary.resource_changes
    assert core_state(project) == ("ACTIVE", version)
    assert project.gateway(PLUGIN).status_code == 200
    # Re-enabling needs no new container.
    assert only_container(project)["Id"] == container


def test_up_recreates_a_container_removed_by_hand(project: EphemeralProject, deployed: Deployed) -> None:
    version = project.manifest(PLUGIN)["version"]
    removed = only_container(project)
    project.remove_container(removed["Id"])
    assert project.containers(PLUGIN, all_states=True) == []
    # The registry still names the removed container: the gateway cannot reach it.
    assert project.gateway(PLUGIN).status_code == 502

    result = project.up()
    assert result.summary.result == "succeeded"
    recreated = only_container(project)
    assert recreated["Id"] != removed["Id"]
    assert project.docker_health(recreated["Id"]) == "healthy"
    assert registered_endpoints(project) == [endpoint(recreated)]
    assert core_state(project) == ("ACTIVE", version)
    response = project.gateway(PLUGIN, as_admin=True)
    assert response.status_code == 200
    assert response.headers["x-plexica-upstream"] == endpoint(recreated)


def test_update_retries_core_api_503s_within_its_budget(project: EphemeralProject, deployed: Deployed) -> None:
    # The most a call can meet and still succeed: every try but the last fails.
    failures = RETRY_MAX_ATTEMPTS - 1
    offset = len(project.emulator.log_text())
    project.edit_manifest(PLUGIN, lambda m: m["deployment"].setdefault("env", {}).update({"FEATURE_FLAGS": "a"}))
    path = f"/api/v1/plugins/{PLUGIN}/update"
    project.emulator.set_faults(fail_next=failures, status=503, path_prefix=path)
    try:
        result = project.up()
        left = current_faults(project)
    finally:
        project.emulator.clear_faults()
    assert result.summary.result == "succeeded"
    # Every injected 503 was met by the update call, and it was retried past them.
    assert left["fail_next"] == 0
    injected = project.emulator.log_text()[offset:].count(f"fault: answering POST {path} with 503")
    assert injected == failures
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and plugin["state"] == "ACTIVE"
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "a"}
    assert "FEATURE_FLAGS=a" in only_container(project)["Config"]["Env"]


def test_update_gives_up_on_a_failing_core_api_and_the_next_up_converges(
    project: EphemeralProject, deployed: Deployed
) -> None:
    version = project.manifest(PLUGIN)["version"]
    path = f"/api/v1/plugins/{PLUGIN}/update"
    project.edit_manifest(PLUGIN, lambda m: m["deployment"]["env"].update({"FEATURE_FLAGS": "b"}))
    project.emulator.set_faults(fail_next=200, status=503, path_prefix=path)
    log: list[str] = []
    try:
        with pytest.raises(auto.CommandError) as info:
            project.up(log)
    finally:
        project.emulator.clear_faults()
    message = str(info.value)
    assert re.search(
        rf"crm: update: Core API answered 503: fault injected by the emulator: 503 for {re.escape(path)} "
        rf"\(gave up after {RETRY_MAX_ATTEMPTS} attempt\(s\) in [0-9.]+ s\)",
        message,
    ), message[-3000:]
    # Our provider errors reach the user as their one line, without the host's traceback.
    assert "Traceback" not in message, message[-3000:]
    assert_no_secrets(project, message, *log)
    # The Core API kept the previous manifest and kept routing.
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and (plugin["state"], plugin["version"]) == ("ACTIVE", version)
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "a"}
    assert project.gateway(PLUGIN).status_code == 200

    result = project.up()
    assert result.summary.result == "succeeded"
    plugin = project.core_plugin(PLUGIN)
    assert plugin is not None and plugin["state"] == "ACTIVE"
    assert plugin["manifest"]["deployment"]["env"] == {"FEATURE_FLAGS": "b"}
    container = only_container(project)
    assert "FEATURE_FLAGS=b" in container["Config"]["Env"]
    assert registered_endpoints(project) == [endpoint(container)]
    assert project.gateway(PLUGIN).status_code == 200


def test_refresh_against_an_unavailable_core_api_fails_cleanly_and_changes_nothing(
    project: EphemeralProject, deployed: Deployed
) -> None:
    containers = sorted(c["Id"] for c in project.containers(all_states=True))
    before = project.core_plugin(PLUGIN)
    project.emulator.set_faults(fail_next=200, status=503, path_prefix="/api/v1/")
    try:
        with pytest.raises(auto.CommandError) as info:
            project.up()
    finally:
        project.emulator.clear_faults()
    message = str(info.value)
    # Every Core API read of the refresh gave up after the retry budget, each with one clear line.
    assert "Traceback" not in message, message[-3000:]
    for plugin_id, step, path in (
        ("crm", "read", "/api/v1/plugins/crm"),
        ("analytics", "read", "/api/v1/plugins/analytics"),
        ("crm", "read service", "/api/v1/service-registry/services"),
        ("analytics", "read service", "/api/v1/service-registry/services"),
    ):
        line = (
            rf"{plugin_id}: {step}: Core API answered 503: fault injected by the emulator: 503 for {re.escape(path)} "
            rf"\(gave up after {RETRY_MAX_ATTEMPTS} attempt\(s\) in [0-9.]+ s\)"
        )
        assert re.search(line, message), (line, message[-3000:])
    assert_no_secrets(project, message)
    assert sorted(c["Id"] for c in project.containers(all_states=True)) == containers
    assert project.core_plugin(PLUGIN) == before

    result = project.up()
    assert result.summary.result == "succeeded"
    assert core_state(project)[0] == "ACTIVE"
    assert sorted(c["Id"] for c in project.containers(all_states=True)) == containers
