"""The local stack against the real Core API's dialect, with client-credentials auth.

A real `pulumi up` of manifests of the real platform's shape (tests/fixtures/real-shaped,
images from the stack) against the emulator in `--dialect plexica-v1` with a token
endpoint whose tokens expire every 30 s: every plugin ends enabled, a second `up`
changes nothing, `destroy` leaves nothing installed and no service registered. Then
the same with 30 % of the writes failing, half before and half after taking effect.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from plexica_infra.localenv import build_plugin_images
from tests._docker import DockerCLI
from tests._emulator import TEST_CLIENT_ID, Emulator, new_token, start_emulator
from tests.e2e._project import STATE_DIR, EphemeralProject, require_toolchain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "real-shaped" / "plugins"
PLUGINS = ("plugin-insights", "plugin-ledger")
IMAGES = {pid: f"registry.plexica.io/plugins/{pid}:1.0.0" for pid in PLUGINS}
TOKEN_TTL_SECONDS = 30


class V1Project(EphemeralProject):
    """The ephemeral project, configured for plexica-v1 + client-credentials."""

    def create(self) -> auto.Stack:
        stack = super().create()
        shutil.rmtree(self.plugins_dir)
        for plugin_id in PLUGINS:
            shutil.copytree(FIXTURES / plugin_id, self.plugins_dir / plugin_id)
        stack.remove_config("plexica:coreApiToken")
        assert self.emulator.client_secret is not None
        stack.set_all_config(
            {
                "plexica:coreApiDialect": auto.ConfigValue("plexica-v1"),
                "plexica:coreApiAuth": auto.ConfigValue("client-credentials"),
                "plexica:coreApiTokenUrl": auto.ConfigValue(self.emulator.token_url),
                "plexica:coreApiClientId": auto.ConfigValue(TEST_CLIENT_ID),
                "plexica:coreApiClientSecret": auto.ConfigValue(self.emulator.client_secret, secret=True),
                "plexica:plugins": auto.ConfigValue(json.dumps({pid: {"image": ref} for pid, ref in IMAGES.items()})),
            }
        )
        return stack

    def build_images(self) -> None:
        build_plugin_images(sorted(IMAGES.values()), docker_host=self.docker.host, state_dir=STATE_DIR)

    def listed(self) -> dict[str, dict[str, Any]]:
        with self.emulator.client() as client:
            response = client.get("/api/v1/plugins", params={"limit": "100"})
        response.raise_for_status()
        return {row["id"]: row for row in response.json()["plugins"]}

    def services(self, plugin_id: str) -> list[dict[str, Any]]:
        with self.emulator.client() as client:
            response = client.get(
                "/api/plugin-gateway/services", params={"pluginId": plugin_id}, headers={"X-Tenant-Slug": "global"}
            )
        response.raise_for_status()
        services: list[dict[str, Any]] = response.json()["services"]
        return services


@pytest.fixture(scope="module")
def v1_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = start_emulator(
        tmp_path_factory.mktemp("v1-emulator") / "core-api.db",
        new_token(),
        dialect="plexica-v1",
        client_secret=f"e2e-client-secret-{uuid.uuid4().hex}",
        token_ttl=TOKEN_TTL_SECONDS,
    )
    try:
        yield emulator
    finally:
        emulator.stop()


def _run(project: V1Project, docker: DockerCLI) -> None:
    issued_before = project.emulator.log_text().count("issued a token")
    project.up()
    listed = project.listed()
    assert {pid: listed[pid]["lifecycleStatus"] for pid in PLUGINS} == dict.fromkeys(PLUGINS, "ACTIVE")
    for plugin_id in PLUGINS:
        [service] = project.services(plugin_id)
        assert service["serviceName"] == plugin_id and service["metadata"]["instances"]
        assert "runtime" not in listed[plugin_id]["manifest"], "the registration document is what v1 accepts"
    assert project.emulator.log_text().count("issued a token") > issued_before

    again = project.stack.up(color="never")
    changes = again.summary.resource_changes or {}
    assert set(changes) == {"same"}, changes

    state = json.dumps(project.stored_state())
    assert project.emulator.client_secret is not None
    assert project.emulator.client_secret not in state

    project.destroy()
    listed = project.listed()
    assert {pid: listed[pid]["lifecycleStatus"] for pid in PLUGINS} == dict.fromkeys(PLUGINS, "REGISTERED")
    assert all(project.services(pid) == [] for pid in PLUGINS)
    assert project.containers() == []


def _project(root: Path, emulator: Emulator, docker: DockerCLI) -> V1Project:
    require_toolchain()
    project = V1Project(root=root, emulator=emulator, docker=docker)
    project.create()
    return project


def test_up_again_and_destroy_against_plexica_v1_with_client_credentials(
    tmp_path: Path,
    v1_emulator: Emulator,
    docker: DockerCLI,
) -> None:
    project = _project(tmp_path / "project", v1_emulator, docker)
    try:
        _run(project, docker)
    finally:
        project.remove()


def test_the_same_with_thirty_percent_of_writes_failing(
    tmp_path: Path,
    v1_emulator: Emulator,
    docker: DockerCLI,
) -> None:
    project = _project(tmp_path / "project", v1_emulator, docker)
    v1_emulator.set_faults(
        path_prefix="/api/",
        methods=["POST", "PUT", "PATCH", "DELETE"],
        fail_ratio=0.15,
        drop_response_ratio=0.15,
        status=503,
        seed=11,
    )
    try:
        _run(project, docker)
    finally:
        v1_emulator.clear_faults()
        project.remove()


def test_a_core_api_outage_keeps_state_and_lets_preview_and_destroy_of_containers_work(
    tmp_path: Path,
    v1_emulator: Emulator,
    docker: DockerCLI,
) -> None:
    project = _project(tmp_path / "project", v1_emulator, docker)
    try:
        project.up()
        assert len(project.containers()) == len(PLUGINS)
        v1_emulator.stop()
        shown: list[str] = []
        preview = project.stack.preview(color="never", on_output=shown.append)
        text = "\n".join(shown)
        assert preview.change_summary.get(auto.OpType.UPDATE, 0) == 0, preview.change_summary
        for plugin_id in PLUGINS:
            assert f"keeping the last known state of {plugin_id} (drift unknown)" in text, text[-3000:]
        shown.clear()
        project.stack.destroy(color="never", on_output=shown.append)
        text = "\n".join(shown)
        assert project.containers() == [], "containers go although the Core API is down"
        for plugin_id in PLUGINS:
            assert f"{plugin_id}: delete:" in text and "was NOT uninstalled" in text, text[-3000:]
        assert "Traceback" not in text
    finally:
        if not v1_emulator.alive():
            v1_emulator.restart()
        project.remove()
