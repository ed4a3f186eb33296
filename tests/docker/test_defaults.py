"""Defaults: what a minimal manifest in a minimal docker stack gets, and why.

Each default is secure or taken from the guide; a change here is a change of the
platform's contract, so every one is asserted separately.
"""

from __future__ import annotations

from typing import Any

from plexica_infra.config import DockerSettings, stack_config_from_mapping
from plexica_infra.docker.container import container_specs
from plexica_infra.docker.image import image_spec
from plexica_infra.docker.network import network_spec
from plexica_infra.manifest import PluginManifest

MINIMAL_MANIFEST: dict[str, Any] = {
    "id": "notes",
    "name": "Notes",
    "version": "0.1.0",
    "runtime": {"type": "node", "image": "registry.plexica.io/plugins/notes:0.1.0"},
    "api": {"basePath": "/api/plugins/notes", "healthCheck": "/health"},
}
MINIMAL_STACK = {
    "target": "docker",
    "coreApiUrl": "http://core-api:3000",
    "kafkaBrokers": "redpanda:29092",
    "coreApiInsecurePlaintextHttp": True,
}


def _spec() -> Any:
    stack = stack_config_from_mapping(MINIMAL_STACK, source="test")
    (spec,) = container_specs(PluginManifest.model_validate(MINIMAL_MANIFEST), stack)
    return spec


class TestDockerSettingsDefaults:
    def test_engine_is_docker_host_or_the_default_socket(self) -> None:
        assert DockerSettings().host is None

    def test_network_is_the_guides_and_created(self) -> None:
        settings = DockerSettings()
        assert settings.network == "plexica-network"
        assert settings.external_network is False

    def test_ports_bind_to_loopback_only(self) -> None:
        assert DockerSettings().bind_address == "127.0.0.1"

    def test_images_are_pulled(self) -> None:
        assert DockerSettings().images == "pull"

    def test_healthcheck_is_the_guides_wget(self) -> None:
        assert DockerSettings().healthcheck_command == [
            "CMD",
            "wget",
            "--no-verbose",
            "--tries=1",
            "--spider",
            "{url}",
        ]

    def test_health_wait_and_stop_grace(self) -> None:
        settings = DockerSettings()
        assert settings.health_timeout_seconds == 180
        assert settings.stop_grace_seconds == 30


class TestContainerDefaults:
    def test_one_instance(self) -> None:
        stack = stack_config_from_mapping(MINIMAL_STACK, source="test")
        assert len(container_specs(PluginManifest.model_validate(MINIMAL_MANIFEST), stack)) == 1
        assert _spec().resource_name == "plexica-plugin-notes"

    def test_limits_are_the_guides_example(self) -> None:
        spec = _spec()
        assert spec.cpus == "0.5"
        assert spec.memory_mib == 512
        assert spec.memory_swap_mib == 512

    def test_reservation_is_half_the_limit(self) -> None:
        assert _spec().memory_reservation_mib == 256

    def test_port_3100_on_loopback(self) -> None:
        (port,) = _spec().ports
        assert (port.internal, port.ip, port.protocol) == (3100, "127.0.0.1", "tcp")

    def test_liveness_path_is_derived_from_health_check(self) -> None:
        assert _spec().healthcheck.tests[-1] == "http://127.0.0.1:3100/health/live"

    def test_healthcheck_timings(self) -> None:
        check = _spec().healthcheck
        assert (check.interval, check.timeout, check.start_period, check.start_interval, check.retries) == (
            "30s",
            "10s",
            "40s",
            "2s",
            3,
        )

    def test_secure_by_default(self) -> None:
        spec = _spec()
        assert spec.user == "1001:1001"
        assert spec.read_only is True
        assert spec.tmpfs == {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
        assert spec.cap_drop == ("ALL",)
        assert spec.security_opts == ("no-new-privileges:true",)

    def test_logs_are_rotated(self) -> None:
        spec = _spec()
        assert spec.log_driver == "json-file"
        assert spec.log_opts == {"max-size": "10m", "max-file": "3"}

    def test_restart_and_health_wait(self) -> None:
        spec = _spec()
        assert spec.restart == "unless-stopped"
        assert spec.wait is True
        assert spec.wait_timeout_seconds == 180
        assert spec.stop_grace_seconds == 30

    def test_no_ready_dependencies_without_dependencies(self) -> None:
        assert "READY_DEPENDENCIES" not in {var.name for var in _spec().env}

    def test_production_logging(self) -> None:
        env = {var.name: var.value for var in _spec().env}
        assert env["LOG_LEVEL"] == "info"
        assert env["NODE_ENV"] == "production"

    def test_image_and_network(self) -> None:
        stack = stack_config_from_mapping(MINIMAL_STACK, source="test")
        image = image_spec(PluginManifest.model_validate(MINIMAL_MANIFEST), stack)
        assert (image.reference, image.source, image.keep_locally) == (
            "registry.plexica.io/plugins/notes:0.1.0",
            "pull",
            True,
        )
        network = network_spec(stack.docker)
        assert (network.name, network.external, network.driver) == ("plexica-network", False, "bridge")
