"""The components under Pulumi mocks on the dev stack: the full resource set for the
shipped plugins, every container input field by field, secrets, ordering and outputs.
The local stack's own resources and the stack variants: `test_components_local.py`."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import rpc

from tests.docker._components import HOOK, assigned_ports, container, deploy, env_of
from tests.docker.conftest import (
    CONTAINER,
    PROVIDER,
    REMOTE_IMAGE,
    SECRET_VALUES,
    SWEEP,
    Recorded,
    _base_config,
    contains_plain_secret,
    image_id,
    unwrap,
)


@pytest.fixture(scope="module")
def dev() -> Recorded:
    # The SDK's provider takes DOCKER_HOST from the environment as its default `host`; the
    # program must not set one itself, whatever engine the test run happens to use.
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DOCKER_HOST", raising=False)
        return deploy(_base_config("dev"))


@pytest.fixture(scope="module")
def local() -> Recorded:
    return deploy(_base_config("local"))


class TestDevResourceSet:
    def test_full_resource_set(self, dev: Recorded) -> None:
        assert sorted((r.type, r.name) for r in dev.registrations) == sorted(
            [
                ("plexica:docker:Platform", "plexica"),
                (PROVIDER, "plexica-docker"),
                ("plexica:docker:Plugin", "crm"),
                (REMOTE_IMAGE, "plexica-plugin-crm"),
                (CONTAINER, "plexica-plugin-crm"),
                ("plexica:docker:Plugin", "analytics"),
                (REMOTE_IMAGE, "plexica-plugin-analytics"),
                (CONTAINER, "plexica-plugin-analytics"),
                (SWEEP, "plexica-orphan-sweep"),
            ]
        )
        assert dev.invokes == []  # the external network is referenced by name, images are pulled

    def test_children_are_parented_to_their_component(self, dev: Recorded) -> None:
        platform = dev.named("plexica:docker:Platform", "plexica").urn
        crm = dev.named("plexica:docker:Plugin", "crm").urn
        assert dev.named(PROVIDER, "plexica-docker").parent == platform
        assert dev.named(REMOTE_IMAGE, "plexica-plugin-crm").parent == crm
        assert dev.named(CONTAINER, "plexica-plugin-crm").parent == crm

    def test_every_docker_resource_uses_the_platform_provider(self, dev: Recorded) -> None:
        provider = dev.named(PROVIDER, "plexica-docker")
        reference = f"{provider.urn}::{provider.name}-id"
        for registration in dev.of_type(CONTAINER) + dev.of_type(REMOTE_IMAGE):
            assert registration.provider == reference

    def test_provider_host_defaults_to_docker_host(self, dev: Recorded) -> None:
        assert "host" not in dev.named(PROVIDER, "plexica-docker").inputs

    def test_images_are_pulled_and_kept(self, dev: Recorded) -> None:
        crm = dev.named(REMOTE_IMAGE, "plexica-plugin-crm").inputs
        assert crm["name"] == "registry.plexica.io/plugins/crm:1.2.0"
        assert crm["keepLocally"] is True
        assert container(dev, "plexica-plugin-crm")["image"] == image_id("registry.plexica.io/plugins/crm:1.2.0")


class TestDevCrmContainer:
    @pytest.fixture
    def crm(self, dev: Recorded) -> dict[str, Any]:
        return container(dev, "plexica-plugin-crm")

    def test_no_name_so_the_provider_autonames(self, crm: dict[str, Any]) -> None:
        assert "name" not in crm

    def test_limits(self, crm: dict[str, Any]) -> None:
        assert crm["cpus"] == "0.5"
        assert crm["memory"] == 512
        assert crm["memorySwap"] == 512
        assert crm["memoryReservation"] == 256

    def test_healthcheck(self, crm: dict[str, Any]) -> None:
        assert crm["healthcheck"] == {
            "tests": ["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "http://127.0.0.1:3100/health/live"],
            "interval": "30s",
            "timeout": "10s",
            "startPeriod": "40s",
            "startInterval": "2s",
            "retries": 3,
        }
        assert crm["wait"] is True
        assert crm["waitTimeout"] == 180

    def test_hardening(self, crm: dict[str, Any]) -> None:
        assert crm["user"] == "1001:1001"
        assert crm["readOnly"] is True
        assert crm["tmpfs"] == {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
        assert crm["capabilities"] == {"drops": ["ALL"]}
        assert crm["securityOpts"] == ["no-new-privileges:true"]
        assert crm["logDriver"] == "json-file"
        assert crm["logOpts"] == {"max-size": "10m", "max-file": "3"}

    def test_restart_and_stop(self, crm: dict[str, Any]) -> None:
        assert crm["restart"] == "unless-stopped"
        assert crm["stopTimeout"] == 30
        assert crm["destroyGraceSeconds"] == 30

    def test_network_and_aliases(self, crm: dict[str, Any]) -> None:
        assert crm["networksAdvanced"] == [{"name": "plexica-network", "aliases": ["plexica-plugin-crm", "plugin-crm"]}]

    def test_port_published_on_loopback_without_host_port(self, crm: dict[str, Any]) -> None:
        assert crm["ports"] == [{"internal": 3100, "ip": "127.0.0.1", "protocol": "tcp"}]

    def test_labels(self, dev: Recorded, crm: dict[str, Any]) -> None:
        labels = {item["label"]: item["value"] for item in crm["labels"]}
        assert labels == {
            "plexica.managed-by": "plexica-infra",
            "plexica.plugin": "crm",
            "plexica.version": "1.2.0",
            "plexica.image": "registry.plexica.io/plugins/crm:1.2.0",
            "plexica.revision": dev.outputs["crm.spec_revision"],
            "plexica.instance": "1",
            "plexica.project": "plexica-infra",
            "plexica.stack": "dev",
            "org.opencontainers.image.title": "CRM Plugin",
            "org.opencontainers.image.version": "1.2.0",
        }

    def test_env(self, crm: dict[str, Any]) -> None:
        assert unwrap(crm["envs"]) == [
            "PLUGIN_ID=crm",
            "PLUGIN_VERSION=1.2.0",
            f"DATABASE_URL={SECRET_VALUES['database_url']}",
            f"REDIS_URL={SECRET_VALUES['redis_url']}",
            "CORE_API_URL=http://core-api:3000",
            "KAFKA_BROKERS=redpanda-1:29092,redpanda-2:29092,redpanda-3:29092",
            f"JWT_SECRET={SECRET_VALUES['jwt_secret']}",
            "LOG_LEVEL=debug",
            "NODE_ENV=development",
            "PORT=3100",
        ]

    def test_replacement_options(self, dev: Recorded) -> None:
        registration = dev.named(CONTAINER, "plexica-plugin-crm")
        assert registration.delete_before_replace is False  # explicitly: create before delete
        assert registration.replace_on_changes == ["#initerror"]
        assert registration.on_error_hooks == [HOOK]


class TestDevAnalyticsContainer:
    def test_limits(self, dev: Recorded) -> None:
        analytics = container(dev, "plexica-plugin-analytics")
        assert analytics["cpus"] == "1.0"
        assert analytics["memory"] == 1024
        assert analytics["memorySwap"] == 1024
        assert analytics["memoryReservation"] == 512

    def test_port_healthcheck_aliases(self, dev: Recorded) -> None:
        analytics = container(dev, "plexica-plugin-analytics")
        assert analytics["ports"] == [{"internal": 3200, "ip": "127.0.0.1", "protocol": "tcp"}]
        assert analytics["healthcheck"]["tests"][-1] == "http://127.0.0.1:3200/health/live"
        assert analytics["networksAdvanced"][0]["aliases"] == ["plexica-plugin-analytics", "plugin-analytics"]

    def test_env_has_port_and_ready_dependencies(self, dev: Recorded) -> None:
        env = env_of(container(dev, "plexica-plugin-analytics"))
        assert env["PLUGIN_ID"] == "analytics"
        assert env["PLUGIN_VERSION"] == "1.0.0"
        assert env["PORT"] == "3200"
        assert env["READY_DEPENDENCIES"] == "http://plugin-crm:3100/health/live"

    def test_waits_for_crm_containers(self, dev: Recorded) -> None:
        crm = dev.named(CONTAINER, "plexica-plugin-crm")
        analytics = dev.named(CONTAINER, "plexica-plugin-analytics")
        assert crm.urn in analytics.dependencies
        assert analytics.urn not in crm.dependencies
        assert not any(r.type == CONTAINER for r in map(dev.by_urn, crm.dependencies))


class TestSecrets:
    @pytest.mark.parametrize("stack", ["dev", "local"])
    def test_env_input_is_secret(self, stack: str, dev: Recorded, local: Recorded) -> None:
        recorded = dev if stack == "dev" else local
        for registration in recorded.of_type(CONTAINER):
            assert rpc.is_rpc_secret(registration.inputs["envs"])

    @pytest.mark.parametrize("stack", ["dev", "local"])
    def test_no_secret_in_plain_text_in_any_input(self, stack: str, dev: Recorded, local: Recorded) -> None:
        recorded = dev if stack == "dev" else local
        for registration in recorded.registrations:
            assert not contains_plain_secret(registration.inputs), registration.name
        for invoke in recorded.invokes:
            assert not contains_plain_secret(invoke.args)

    @pytest.mark.parametrize("stack", ["dev", "local"])
    def test_no_secret_in_logs_or_outputs(self, stack: str, dev: Recorded, local: Recorded) -> None:
        recorded = dev if stack == "dev" else local
        assert not contains_plain_secret(recorded.logs)
        assert not contains_plain_secret(recorded.outputs)

    def test_the_check_above_sees_secrets_once_unwrapped(self, dev: Recorded) -> None:
        """Guards the two tests above against passing vacuously."""
        envs = dev.named(CONTAINER, "plexica-plugin-crm").inputs["envs"]
        assert contains_plain_secret(unwrap(envs))
        assert not contains_plain_secret(envs)

    def test_core_api_token_is_never_given_to_plugins(self, dev: Recorded) -> None:
        for registration in dev.of_type(CONTAINER):
            assert not any(SECRET_VALUES["core_api_token"] in entry for entry in unwrap(registration.inputs["envs"]))


class TestOutputs:
    def test_container_names_are_the_provider_assigned_names(self, dev: Recorded) -> None:
        for pid in ("crm", "analytics"):
            registration = dev.named(CONTAINER, f"plexica-plugin-{pid}")
            assert dev.outputs[f"{pid}.container_names"] == [registration.state["name"]]
            assert registration.state["name"].startswith(f"plexica-plugin-{pid}-")

    def test_instance_urls_use_the_assigned_host_port(self, dev: Recorded) -> None:
        ports = assigned_ports(dev)
        assert dev.outputs["crm.instance_urls"] == [f"http://127.0.0.1:{ports['plexica-plugin-crm']}"]
        assert dev.outputs["analytics.instance_urls"] == [f"http://127.0.0.1:{ports['plexica-plugin-analytics']}"]

    def test_internal_urls_name_each_container(self, dev: Recorded) -> None:
        (name,) = dev.outputs["crm.container_names"]
        assert dev.outputs["crm.internal_urls"] == [f"http://{name}:3100"]

    def test_service_url_is_the_stable_alias(self, dev: Recorded) -> None:
        assert dev.outputs["crm.service_url"] == "http://plexica-plugin-crm:3100"
        assert dev.outputs["analytics.service_url"] == "http://plexica-plugin-analytics:3200"

    def test_revision(self, dev: Recorded) -> None:
        assert dev.outputs["crm.revision"] == dev.outputs["crm.spec_revision"]
        assert len(dev.outputs["crm.revision"]) == 12
        assert dev.outputs["crm.revision"] != dev.outputs["analytics.revision"]
