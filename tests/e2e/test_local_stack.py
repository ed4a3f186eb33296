"""The local stack's main job, end to end, in the order a team lives it.

Real processes over real sockets: the Pulumi engine (Automation API), our
providers, dockerd and the Core API emulator. The tests share one ephemeral
stack and run in file order: up, a no-op preview, a version bump, a removed
manifest, an invalid manifest, destroy.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from tests._secret_scan import find_in_files, find_in_text, resources_holding
from tests.e2e._project import EphemeralProject

pytestmark = pytest.mark.e2e

EXPECTED_LIMITS = {
    # plugin: (Memory bytes, NanoCpus, MemoryReservation bytes) from the shipped manifests
    "crm": (512 * 1024**2, 500_000_000, 256 * 1024**2),
    "analytics": (1024**3, 1_000_000_000, 512 * 1024**2),
}


def _assert_no_secret_leaked(project: EphemeralProject, step: str, *outputs: str) -> None:
    """After every step: no secret in any backend file (checkpoint, backups, history) or output.

    `tests/test_secret_scan.py` shows this scanner catches deliberately leaked values.
    """
    secrets = list(project.secrets().values())
    leaks = find_in_files(project.root / "backend", secrets)
    leaks += [f"{step} output: {hit}" for hit in find_in_text("\n".join(outputs), secrets)]
    leaks += [f"state resource {where}" for where in resources_holding(project.stored_state(), secrets)]
    assert leaks == [], f"after {step}, secrets reached plaintext at: {leaks}"


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
        assert project.docker_health(container["Id"]) == "healthy"
        assert container["Config"]["Labels"]["plexica.version"] == manifest["version"]

        plugin = project.core_plugin(plugin_id)
        assert plugin is not None
        assert (plugin["state"], plugin["version"]) == ("ACTIVE", manifest["version"])
        response = project.gateway(plugin_id)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"

    outputs = project.stack.outputs()
    assert outputs["plugins"].value["crm"]["state"] == "ACTIVE"
    _assert_no_secret_leaked(project, "up", "\n".join(log), result.stdout, result.stderr)


def test_second_preview_reports_no_changes(project: EphemeralProject) -> None:
    preview = project.preview()
    changes = {op: count for op, count in preview.change_summary.items() if op != "same"}
    assert changes == {}, preview.stdout[-3000:]
    _assert_no_secret_leaked(project, "preview", preview.stdout, preview.stderr)


def test_version_bump_swaps_to_the_new_version(project: EphemeralProject) -> None:
    before = _only_container(project, "crm")["Id"]

    def bump(manifest: dict[str, Any]) -> None:
        manifest["version"] = "1.3.0"
        manifest["runtime"]["image"] = "registry.plexica.io/plugins/crm:1.3.0"

    project.edit_manifest("crm", bump)
    log: list[str] = []
    result = project.up(log)
    _assert_no_secret_leaked(project, "version bump", "\n".join(log), result.stdout, result.stderr)
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
    result = project.up()
    _assert_no_secret_leaked(project, "removal", result.stdout, result.stderr)
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
        _assert_no_secret_leaked(project, "invalid manifest", message)
    finally:
        project.write_manifest("crm", original)
    assert sorted(c["Id"] for c in project.containers()) == containers_before
    assert project.core_plugin("crm") == crm_before


def test_refresh_reads_back_without_leaking(project: EphemeralProject) -> None:
    result = project.stack.refresh(color="never")
    assert result.summary.result == "succeeded"
    _assert_no_secret_leaked(project, "refresh", result.stdout, result.stderr)


def test_destroy_leaves_nothing_behind(project: EphemeralProject) -> None:
    result = project.stack.destroy(color="never")
    _assert_no_secret_leaked(project, "destroy", result.stdout, result.stderr)
    assert project.containers(all_states=True) == []
    assert not project.network_exists()
    plugin = project.core_plugin("crm")
    assert plugin is not None and plugin["state"] == "UNINSTALLED"
    with project.emulator.client() as client:
        services = client.get("/api/v1/service-registry/services").json()
    assert [s for s in (services if isinstance(services, list) else services.get("services", []))] == []
