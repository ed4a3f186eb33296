"""Hot-swap updates and rollback on failure, end to end (the guide's "Hot-Swap Updates"
and "Rollback on Failure").

Real processes over real sockets: the Pulumi engine (Automation API), our providers,
dockerd, the reference plugin image and the Core API emulator. While an update runs,
a background thread polls the emulator's gateway (`/api/plugins/crm/health/live`)
every 50 ms (`plexica_infra.localenv.gateway_poller`) and records each answer's status,
latency, `X-Plexica-Upstream` and version, so "zero downtime" and "the gateway switched
to the new container" are observed, not inferred. Helpers: `_hot_swap.py`.

The tests share one ephemeral stack (module-scoped `project`, the stack's default
health settings) and run in file order; each one reads the version it starts from
instead of assuming it. A container that never becomes healthy fails `pulumi up` once
Docker reports it `unhealthy`: after the 40 s start period and 3 failed 2 s checks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pulumi import automation as auto

from plexica_infra.localenv.ephemeral_docker import set_version
from tests.e2e._hot_swap import (
    PLUGIN,
    Deployed,
    assert_covered,
    assert_no_secrets,
    core_state,
    deployed_fixture,  # noqa: F401  (the `deployed` fixture)
    endpoint,
    failed_up_while_polling,
    next_patch,
    only_container,
    registered_endpoints,
    up_while_polling,
)
from tests.e2e._project import EphemeralProject

pytestmark = pytest.mark.e2e


# Tests ------------------------------------------------------------------------------------------


def test_initial_up_deploys_the_shipped_plugins(project: EphemeralProject, deployed: Deployed) -> None:
    assert deployed.result.summary.result == "succeeded"
    for plugin_id in ("crm", "analytics"):
        container = only_container(project, plugin_id)
        assert project.docker_health(container["Id"]) == "healthy"
        manifest = project.manifest(plugin_id)
        assert core_state(project, plugin_id) == ("ACTIVE", manifest["version"])
        assert registered_endpoints(project, plugin_id) == [endpoint(container)]
        response = project.gateway(plugin_id, as_admin=True)
        assert response.status_code == 200
        assert response.headers["x-plexica-upstream"] == endpoint(container)
    assert_no_secrets(project, *deployed.log)


def test_version_bump_hot_swaps_with_zero_downtime(project: EphemeralProject, deployed: Deployed) -> None:
    old = only_container(project)
    old_endpoint = endpoint(old)
    analytics = only_container(project, "analytics")["Id"]
    old_version = project.manifest(PLUGIN)["version"]
    new_version = next_patch(old_version)
    assert core_state(project) == ("ACTIVE", old_version)

    project.edit_manifest(PLUGIN, lambda m: set_version(m, new_version))
    log: list[str] = []
    result, poller = up_while_polling(project, log)

    assert result.summary.result == "succeeded"
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    new = only_container(project)
    assert new["Id"] != old["Id"]
    assert new["State"]["Running"] and project.docker_health(new["Id"]) == "healthy"
    assert new["Config"]["Labels"]["plexica.version"] == new_version
    assert f"PLUGIN_VERSION={new_version}" in new["Config"]["Env"]
    new_endpoint = endpoint(new)
    assert new_endpoint != old_endpoint
    # The gateway moved from the old container to the new one exactly once, mid-update.
    assert poller.upstream_runs() == [old_endpoint, new_endpoint], poller.upstream_runs()
    assert poller.versions() == [old_version, new_version], poller.versions()
    assert registered_endpoints(project) == [new_endpoint]
    assert core_state(project) == ("ACTIVE", new_version)
    # The new container serves the new version through the gateway.
    info = project.gateway(PLUGIN, "info")
    assert info.status_code == 200 and new_version in info.text, info.text
    # The old container is gone, not just stopped.
    assert not project.container_exists(old["Id"])
    # The dependent plugin was not touched by its dependency's swap.
    assert only_container(project, "analytics")["Id"] == analytics
    assert core_state(project, "analytics")[0] == "ACTIVE"
    assert_no_secrets(project, *log)


def test_unhealthy_new_version_rolls_back_and_a_fixed_manifest_converges(
    project: EphemeralProject, deployed: Deployed
) -> None:
    old = only_container(project)
    old_endpoint = endpoint(old)
    old_version = project.manifest(PLUGIN)["version"]
    new_version = next_patch(old_version)
    assert core_state(project) == ("ACTIVE", old_version)

    def broken(manifest: dict[str, Any]) -> None:
        set_version(manifest, new_version)
        manifest["deployment"]["env"] = {"PLEXICA_SIMULATE": "unhealthy"}

    project.edit_manifest(PLUGIN, broken)
    log: list[str] = []
    error, poller = failed_up_while_polling(project, log)
    message = str(error)

    # The failure names crm's new container and why it failed.
    failed = re.search(r"container (plexica-plugin-crm-[0-9a-f]{7}): (became unhealthy|not healthy after)", message)
    assert failed, message[-3000:]
    name = failed.group(1)
    assert name != old["Name"].lstrip("/")
    # The failed container is gone within the same `up`: the provider removes a container whose
    # create failed, and the on_error hook ran for it and either removed it or found it gone.
    assert not project.container_exists(name)
    output = "\n".join(log)
    hook = (
        rf"removed container {name} \([0-9a-f]{{12}}\) because its create failed",
        rf"the failed create left no container {name} behind",
    )
    assert any(re.search(pattern, output) for pattern in hook), output[-3000:]
    # The gateway answered 200 throughout, always from the old container.
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    assert poller.upstream_runs() == [old_endpoint], poller.upstream_runs()
    # The old container is untouched and healthy; nothing else of crm is left, running or not.
    after = only_container(project)
    assert after["Id"] == old["Id"]
    assert after["State"]["Running"] and project.docker_health(after["Id"]) == "healthy"
    leftovers = [
        c["Name"] for c in project.containers(all_states=True) if "PLEXICA_SIMULATE=unhealthy" in c["Config"]["Env"]
    ]
    assert leftovers == []
    assert registered_endpoints(project) == [old_endpoint]
    assert core_state(project) == ("ACTIVE", old_version)
    assert project.gateway(PLUGIN).status_code == 200
    assert_no_secrets(project, message, output)

    # Fix the manifest (same new version, no fault switch): the next `up` converges, still without downtime.
    project.edit_manifest(PLUGIN, lambda m: m["deployment"].pop("env"))
    log = []
    result, poller = up_while_polling(project, log)
    assert result.summary.result == "succeeded"
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    fixed = only_container(project)
    assert fixed["Id"] != old["Id"]
    assert project.docker_health(fixed["Id"]) == "healthy"
    assert poller.upstream_runs() == [old_endpoint, endpoint(fixed)], poller.upstream_runs()
    assert core_state(project) == ("ACTIVE", new_version)
    assert not project.container_exists(old["Id"])
    assert_no_secrets(project, *log)


def test_crashing_new_version_rolls_back_and_reverting_the_manifest_changes_nothing(
    project: EphemeralProject, deployed: Deployed
) -> None:
    """The guide's third rollback trigger: the new container crashes right after it starts."""
    old = only_container(project)
    old_endpoint = endpoint(old)
    original = project.manifest(PLUGIN)
    old_version = original["version"]

    def crashing(manifest: dict[str, Any]) -> None:
        set_version(manifest, next_patch(old_version))
        manifest["deployment"]["env"] = {"PLEXICA_SIMULATE": "crash"}

    project.edit_manifest(PLUGIN, crashing)
    log: list[str] = []
    error, poller = failed_up_while_polling(project, log)
    message = str(error)
    failed = re.search(r"container (plexica-plugin-crm-[0-9a-f]{7}): ", message)
    assert failed, message[-3000:]
    assert not project.container_exists(failed.group(1))
    assert_covered(poller)
    assert poller.failures() == [], poller.describe()
    assert poller.upstream_runs() == [old_endpoint], poller.upstream_runs()
    assert only_container(project)["Id"] == old["Id"]
    assert core_state(project) == ("ACTIVE", old_version)
    assert_no_secrets(project, message, *log)

    # Back to the manifest that runs: nothing to replace, the old container stays.
    project.write_manifest(PLUGIN, original)
    result = project.up()
    assert result.summary.result == "succeeded"
    assert (result.summary.resource_changes or {}).get(auto.OpType.REPLACE, 0) == 0, result.summary.resource_changes
    assert only_container(project)["Id"] == old["Id"]
    assert core_state(project) == ("ACTIVE", old_version)
    assert project.gateway(PLUGIN).status_code == 200
