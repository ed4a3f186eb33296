"""The pure spec builders, field by field, for the shipped plugins in the dev and local
stacks. Replicas, revisions, images, env and names: `test_specs_rules.py`."""

from __future__ import annotations

from plexica_infra.docker.env import EnvVar
from plexica_infra.docker.image import image_spec
from plexica_infra.docker.network import network_spec
from tests.docker._specs import CRM, analytics_spec, crm_spec
from tests.docker.conftest import _base_config


class TestDevStack:
    def test_crm_limits(self) -> None:
        spec = crm_spec()
        assert spec.cpus == "0.5"
        assert spec.memory_mib == 512
        assert spec.memory_swap_mib == 512
        assert spec.memory_reservation_mib == 256

    def test_analytics_limits(self) -> None:
        spec = analytics_spec()
        assert spec.cpus == "1.0"
        assert spec.memory_mib == 1024
        assert spec.memory_swap_mib == 1024
        assert spec.memory_reservation_mib == 512

    def test_crm_healthcheck_is_the_guides_on_the_liveness_path(self) -> None:
        check = crm_spec().healthcheck
        assert check.tests == (
            "CMD",
            "wget",
            "--no-verbose",
            "--tries=1",
            "--spider",
            "http://127.0.0.1:3100/health/live",
        )
        assert check.interval == "30s"
        assert check.timeout == "10s"
        assert check.start_period == "40s"
        assert check.start_interval == "2s"
        assert check.retries == 3

    def test_analytics_healthcheck_uses_its_own_port(self) -> None:
        assert analytics_spec().healthcheck.tests[-1] == "http://127.0.0.1:3200/health/live"

    def test_health_settings_drive_start_period_and_retries(self) -> None:
        stack = _base_config(health={"startPeriodSeconds": 90, "failureThreshold": 5})
        check = crm_spec(stack).healthcheck
        assert check.start_period == "90s"
        assert check.retries == 5

    def test_hardening(self) -> None:
        spec = crm_spec()
        assert spec.user == "1001:1001"
        assert spec.read_only is True
        assert spec.tmpfs == {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
        assert spec.cap_drop == ("ALL",)
        assert spec.security_opts == ("no-new-privileges:true",)
        assert spec.log_driver == "json-file"
        assert spec.log_opts == {"max-size": "10m", "max-file": "3"}

    def test_lifecycle(self) -> None:
        spec = crm_spec()
        assert spec.restart == "unless-stopped"
        assert spec.wait is True
        assert spec.wait_timeout_seconds == 180
        assert spec.stop_grace_seconds == 30

    def test_network_aliases_and_ports(self) -> None:
        spec = crm_spec()
        assert spec.network == "plexica-network"
        assert spec.aliases == ("plexica-plugin-crm", "plugin-crm")
        (port,) = spec.ports
        assert port.internal == 3100
        assert port.ip == "127.0.0.1"
        assert port.protocol == "tcp"

    def test_labels(self) -> None:
        spec = crm_spec()
        assert spec.labels == {
            "plexica.managed-by": "plexica-infra",
            "plexica.plugin": "crm",
            "plexica.version": "1.2.0",
            "plexica.image": "registry.plexica.io/plugins/crm:1.2.0",
            "plexica.revision": spec.revision,
            "plexica.instance": "1",
            "org.opencontainers.image.title": "CRM Plugin",
            "org.opencontainers.image.version": "1.2.0",
        }

    def test_crm_env_in_the_guides_order(self) -> None:
        assert crm_spec().env == (
            EnvVar("PLUGIN_ID", "crm"),
            EnvVar("PLUGIN_VERSION", "1.2.0"),
            EnvVar("DATABASE_URL", secret="database_url"),
            EnvVar("REDIS_URL", secret="redis_url"),
            EnvVar("CORE_API_URL", "http://core-api:3000"),
            EnvVar("KAFKA_BROKERS", "redpanda-1:29092,redpanda-2:29092,redpanda-3:29092"),
            EnvVar("JWT_SECRET", secret="jwt_secret"),
            EnvVar("LOG_LEVEL", "debug"),
            EnvVar("NODE_ENV", "development"),
            EnvVar("PORT", "3100"),
        )

    def test_analytics_env_adds_ready_dependencies(self) -> None:
        env = analytics_spec().env
        assert env[9] == EnvVar("PORT", "3200")
        assert env[10] == EnvVar("READY_DEPENDENCIES", "http://plugin-crm:3100/health/live")
        assert len(env) == 11

    def test_image_is_pulled_by_reference(self) -> None:
        spec = image_spec(CRM, _base_config())
        assert spec.reference == "registry.plexica.io/plugins/crm:1.2.0"
        assert spec.source == "pull"
        assert spec.keep_locally is True

    def test_network_is_adopted(self) -> None:
        spec = network_spec(_base_config().docker)
        assert spec.name == "plexica-network"
        assert spec.external is True


class TestLocalStack:
    def test_healthcheck_command_from_the_stack(self) -> None:
        spec = crm_spec(_base_config("local"))
        assert spec.healthcheck.tests == ("CMD", "/plugin", "healthcheck", "http://127.0.0.1:3100/health/live")

    def test_env_reflects_the_local_stack(self) -> None:
        env = {var.name: var for var in analytics_spec(_base_config("local")).env}
        # 127.0.0.1 inside a container is the container: the host's emulator through host-gateway.
        assert env["CORE_API_URL"] == EnvVar("CORE_API_URL", "http://host.docker.internal:4010")
        assert analytics_spec(_base_config("local")).hosts == (("host.docker.internal", "host-gateway"),)
        assert env["KAFKA_BROKERS"] == EnvVar("KAFKA_BROKERS", "redpanda:29092")
        assert env["LOG_LEVEL"] == EnvVar("LOG_LEVEL", "info")
        assert env["NODE_ENV"] == EnvVar("NODE_ENV", "development")

    def test_image_is_local(self) -> None:
        spec = image_spec(CRM, _base_config("local"))
        assert spec.reference == "registry.plexica.io/plugins/crm:1.2.0"
        assert spec.source == "local"

    def test_network_is_created(self) -> None:
        spec = network_spec(_base_config("local").docker)
        assert spec.name == "plexica-network"
        assert spec.external is False
        assert spec.driver == "bridge"
        assert spec.labels == {"plexica.managed-by": "plexica-infra"}
