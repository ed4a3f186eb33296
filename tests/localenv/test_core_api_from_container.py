"""A plugin container reaches the local stack's Core API at the address the stack gives it.

Inside a container 127.0.0.1 is the container itself, so the local stack hands plugins
`CORE_API_URL=http://host.docker.internal:4010`, maps that name to Docker's
`host-gateway` (Docker >= 20.10) and has the emulator listen on the bridge address
too. Checked here with a real emulator, a real container of the reference plugin
image and a request made from inside it.
"""

from __future__ import annotations

from pathlib import Path

from plexica_infra.docker.container import container_specs
from plexica_infra.localenv.emulator import bridge_address
from plexica_infra.localenv.stack import read_stack_file
from plexica_infra.manifest import PluginManifest
from tests._docker import DockerCLI, DockerResources
from tests._emulator import new_token, start_emulator
from tests.conftest import shipped_manifest


def test_the_local_stack_hands_plugins_a_core_api_address_that_works_from_inside(
    docker: DockerCLI, docker_resources: DockerResources, plugin_image: str, tmp_path: Path
) -> None:
    stack = read_stack_file("local")
    [spec] = container_specs(PluginManifest.model_validate(shipped_manifest("crm")), stack)
    env = {var.name: var.value for var in spec.env}
    assert env["CORE_API_URL"] == "http://host.docker.internal:4010"
    assert ("host.docker.internal", "host-gateway") in spec.hosts

    bridge = bridge_address()
    assert bridge is not None, "the Docker engine has a docker0 bridge"
    emulator = start_emulator(tmp_path / "core-api.db", new_token(), extra_args=["--also-listen", bridge])
    try:
        core_api_url = f"http://host.docker.internal:{emulator.port}"
        container = docker_resources.container(
            "core-api-client",
            plugin_image,
            "--network", docker_resources.network(),
            "--add-host", "host.docker.internal:host-gateway",
            env={"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0", "CORE_API_URL": core_api_url},
        )  # fmt: skip
        inside = docker.run(
            "exec", container, "/plugin", "healthcheck", f"{core_api_url}/_emulator/health", check=False
        )
        assert inside.returncode == 0, inside.stdout + inside.stderr
        loopback = f"http://127.0.0.1:{emulator.port}/_emulator/health"
        old_way = docker.run("exec", container, "/plugin", "healthcheck", loopback, check=False)
        assert old_way.returncode != 0, "127.0.0.1 inside a container is the container itself"
    finally:
        emulator.stop()
