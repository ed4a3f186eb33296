"""The local stack's main job, end to end, in the order a team lives it.

Real processes over real sockets: the Pulumi engine (Automation API), our
providers, dockerd and the Core API emulator. The tests share one ephemeral
stack and run in file order: up, a no-op preview, a version bump, a removed
manifest, an invalid manifest, destroy.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e._project import EphemeralProject

pytestmark = pytest.mark.e2e

EXPECTED_LIMITS = {
    # plugin: (Memory bytes, NanoCpus, MemoryReservation bytes) from the shipped manifests
    "crm": (512 * 1024**2, 500_000_000, 256 * 1024**2),
    "analytics": (1024**3, 1_000_000_000, 512 * 1024**2),
}


def _plaintext_secrets(deployment: dict[str, Any], secrets: Any) -> list[str]:
    """Where (resource, field) any secret value appears in plaintext in a state export."""
    values = list(secrets)
    found = []
    for resource in deployment.get("resources", []):
        for section in ("inputs", "outputs"):
            for key, value in (resource.get(section) or {}).items():
                text = json.dumps(value)
                if any(secret in text for secret in values):
                    found.append(f"{resource['urn'].rsplit('::', 1)[-1]}.{section}.{key}")
    rest = json.dumps({k: v for k, v in deployment.items() if k != "resources"})
    if any(secret in rest for secret in values):
        found.append("deployment (outside resources)")
    return found


def _only_container(project: EphemeralProject, plugin_id: str) -> dict[str, Any]:
    containers = project.containers(plugin_id)
    assert len(containers) == 1, [c["Name"] for c in containers]
    return containers[0]


def test_up_deploys_every_plugin_limited_healthy_and_active(project: EphemeralProject) -> None:
    log: list[str] = []
    result = project.up(log)
    assert result.summary.result == "succeeded"
    for plugin_id, (memory, nano_cpus, reservation) in EXPECTED_LIMITS.items():
        container = _only_container(project, plugin_id)
        host = container["HostConfig"]
        assert (host["Memory"], host["NanoCpus"], host["MemoryReservation"]) == (memory, nano_cpus, reservation)
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["RestartPolicy"]["Name"] == "unless-stopped"
        assert container["Config"]["User"] == "1001:1001"
        manifest = project.manifest(plugin_id)
        port = manifest["deployment"]["port"]
        healthcheck = container["Config"]["Healthcheck"]
        assert healthcheck["Test"] == ["CMD", "/plugin", "healthcheck", f"http://127.0.0.1:{port}/health/live"]
        assert healthcheck["Retries"] == 3
        assert container["State"]["Health"]["Status"] == "healthy"
        assert container["Config"]["Labels"]["plexica.version"] == manifest["version"]

        plugin = project.core_plugin(plugin_id)
        assert plugin is not None
        assert (plugin["state"], plugin["version"]) == ("ACTIVE", manifest["version"])
        response = project.gateway(plugin_id)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    outputs = project.stack.outputs()
    assert outputs["plugins"].value["crm"]["state"] == "ACTIVE"
    text = "\n".join(log)
    for secret in project.secrets().values():
        assert secret not in text
    leaks = _plaintext_secrets(project.stored_state(), project.secrets().values())
    assert leaks == [], f"secrets reached the state in plaintext at: {leaks}"


def test_second_preview_reports_no_changes(project: EphemeralProject) -> None:
    preview = project.preview()
    changes = {op: count for op, count in preview.change_summary.items() if op != "same"}
    assert changes == {}, preview.stdout[-3000:]
    for secret in project.secrets().values():
        assert secret not in preview.stdout + preview.stderr


def test_version_bump_swaps_to_the_new_version(project: EphemeralProject) -> None:
    before = _only_container(project, "crm")["Id"]

    def bump(manifest: dict[str, Any]) -> None:
        manifest["version"] = "1.3.0"
        manifest["runtime"]["image"] = "registry.plexica.io/plugins/crm:1.3.0"

    project.edit_manifest("crm", bump)
    project.up()
    after = _only_container(project, "crm")
    assert after["Id"] != before
    assert after["Config"]["Labels"]["plexica.version"] == "1.3.0"
    plugin = project.core_plugin("crm")
    assert plugin is not None and (plugin["state"], plugin["version"]) == ("ACTIVE", "1.3.0")
    assert project.gateway("crm").status_code == 200
    # The dependent plugin kept running and routed throughout the update of its dependency.
    assert project.core_plugin("analytics")["state"] == "ACTIVE"  # type: ignore[index]


def test_removing_a_manifest_retires_the_plugin(project: EphemeralProject) -> None:
    project.remove_manifest("analytics")
    project.up()
    assert project.containers("analytics", all_states=True) == []
    plugin = project.core_plugin("analytics")
    assert plugin is not None and plugin["state"] == "UNINSTALLED"
    assert project.gateway("analytics").status_code == 404
    assert project.core_plugin("crm")["state"] == "ACTIVE"  # type: ignore[index]


def test_invalid_manifest_fails_before_touching_anything(project: EphemeralProject) -> None:
    containers_before = sorted(c["Id"] for c in project.containers())
    crm_before = project.core_plugin("crm")

    def break_it(manifest: dict[str, Any]) -> None:
        manifest["runtime"]["resources"]["cpu"] = "500x"
        manifest["version"] = "9.9.9"

    original = project.manifest("crm")
    project.edit_manifest("crm", break_it)
    try:
        with pytest.raises(auto.CommandError) as info:
            project.stack.up(color="never")
        message = str(info.value)
        assert "plugins/crm/plugin.json: /runtime/resources/cpu: invalid CPU quantity '500x'" in message
        assert "Traceback" not in message
    finally:
        project.write_manifest("crm", original)
    assert sorted(c["Id"] for c in project.containers()) == containers_before
    assert project.core_plugin("crm") == crm_before


def test_destroy_leaves_nothing_behind(project: EphemeralProject) -> None:
    project.destroy()
    assert project.containers(all_states=True) == []
    assert not project.network_exists()
    plugin = project.core_plugin("crm")
    assert plugin is not None and plugin["state"] == "UNINSTALLED"
    with project.emulator.client() as client:
        services = client.get("/api/v1/service-registry/services").json()
    assert [s for s in (services if isinstance(services, list) else services.get("services", []))] == []
