"""The components under Pulumi mocks: the full resource set for the shipped plugins in
the dev and local stacks, every container input field by field, secrets, ordering
and outputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from plexica_infra.config import StackConfig
from plexica_infra.docker.program import deploy_docker
from plexica_infra.errors import StackConfigError
from plexica_infra.loader import LoadedPlugin
from tests.docker.conftest import (
    CONTAINER,
    GET_REMOTE_IMAGE,
    NETWORK,
    PROVIDER,
    REMOTE_IMAGE,
    SECRET_VALUES,
    SWEEP,
    Recorded,
    _base_config,
    contains_plain_secret,
    image_id,
    make_secrets,
    run_program,
    shipped_plugins,
    unwrap,
)

HOOK = "plexica-docker-remove-failed-container-plexica"


def deploy(stack: StackConfig, plugins: list[LoadedPlugin] | None = None) -> Recorded:
    def build() -> dict[str, Any]:
        deployed = deploy_docker(plugins or shipped_plugins(), stack, make_secrets())
        outputs: dict[str, Any] = {}
        for pid, plugin in deployed.items():
            outputs[f"{pid}.container_names"] = plugin.container_names
            outputs[f"{pid}.instance_urls"] = plugin.instance_urls
            outputs[f"{pid}.internal_urls"] = plugin.internal_urls
            outputs[f"{pid}.service_url"] = plugin.service_url
            outputs[f"{pid}.revision"] = plugin.revision
            outputs[f"{pid}.spec_revision"] = pulumi.Output.from_input(plugin.specs[0].revision)
        return outputs

    return run_program(build, stack="dev" if stack.docker.external_network else "local")


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


def container(recorded: Recorded, name: str) -> dict[str, Any]:
    return recorded.named(CONTAINER, name).inputs


def env_of(inputs: dict[str, Any]) -> dict[str, str]:
    entries = unwrap(inputs["envs"])
    return dict(entry.split("=", 1) for entry in entries)


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
        ports = _assigned_ports(dev)
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


class TestLocalStack:
    def test_full_resource_set(self, local: Recorded) -> None:
        assert sorted((r.type, r.name) for r in local.registrations) == sorted(
            [
                ("plexica:docker:Platform", "plexica"),
                (PROVIDER, "plexica-docker"),
                (NETWORK, "plexica-network"),
                ("plexica:docker:Plugin", "crm"),
                (CONTAINER, "plexica-plugin-crm"),
                ("plexica:docker:Plugin", "analytics"),
                (CONTAINER, "plexica-plugin-analytics"),
                (SWEEP, "plexica-orphan-sweep"),
            ]
        )

    def test_network_is_created_as_a_bridge(self, local: Recorded) -> None:
        network = local.named(NETWORK, "plexica-network")
        assert network.inputs == {
            "name": "plexica-network",
            "driver": "bridge",
            "labels": [{"label": "plexica.managed-by", "value": "plexica-infra"}],
        }
        for registration in local.of_type(CONTAINER):
            assert network.urn in registration.dependencies
            assert registration.inputs["networksAdvanced"][0]["name"] == "plexica-network"

    def test_images_are_resolved_locally_never_pulled(self, local: Recorded) -> None:
        assert local.of_type(REMOTE_IMAGE) == []
        provider = local.named(PROVIDER, "plexica-docker")
        assert sorted((i.token, i.args["name"]) for i in local.invokes) == [
            (GET_REMOTE_IMAGE, "registry.plexica.io/plugins/analytics:1.0.0"),
            (GET_REMOTE_IMAGE, "registry.plexica.io/plugins/crm:1.2.0"),
        ]
        assert all(i.provider == f"{provider.urn}::{provider.name}-id" for i in local.invokes)
        # The container runs the local image id, so a rebuild under the same tag replaces it.
        assert container(local, "plexica-plugin-crm")["image"] == image_id("registry.plexica.io/plugins/crm:1.2.0")

    def test_local_healthcheck_command(self, local: Recorded) -> None:
        assert container(local, "plexica-plugin-crm")["healthcheck"]["tests"] == [
            "CMD",
            "/plugin",
            "healthcheck",
            "http://127.0.0.1:3100/health/live",
        ]

    def test_ordering_and_replacement_options(self, local: Recorded) -> None:
        crm = local.named(CONTAINER, "plexica-plugin-crm")
        analytics = local.named(CONTAINER, "plexica-plugin-analytics")
        assert crm.urn in analytics.dependencies
        for registration in (crm, analytics):
            assert registration.delete_before_replace is False
            assert registration.replace_on_changes == ["#initerror"]
            assert registration.on_error_hooks == [HOOK]


class TestVariants:
    def test_provider_host_from_the_stack(self) -> None:
        recorded = deploy(_base_config("dev", docker={"host": "unix:///work/main/.state/docker/docker.sock"}))
        assert (
            recorded.named(PROVIDER, "plexica-docker").inputs["host"] == "unix:///work/main/.state/docker/docker.sock"
        )

    def test_replicas_make_one_container_each(self) -> None:
        recorded = deploy(_base_config("dev", plugins={"crm": {"replicas": 2}}))
        names = sorted(r.name for r in recorded.of_type(CONTAINER))
        assert names == ["plexica-plugin-analytics", "plexica-plugin-crm", "plexica-plugin-crm-2"]
        assert len(recorded.outputs["crm.container_names"]) == 2
        assert len(set(recorded.outputs["crm.instance_urls"])) == 2
        analytics = recorded.named(CONTAINER, "plexica-plugin-analytics")
        for name in ("plexica-plugin-crm", "plexica-plugin-crm-2"):
            assert recorded.named(CONTAINER, name).urn in analytics.dependencies
            aliases = container(recorded, name)["networksAdvanced"][0]["aliases"]
            assert aliases == ["plexica-plugin-crm", "plugin-crm"]

    def test_registry_override(self) -> None:
        recorded = deploy(_base_config("dev", imageRegistry="mirror.local:5000"))
        image = recorded.named(REMOTE_IMAGE, "plexica-plugin-crm").inputs
        assert image["name"] == "mirror.local:5000/plugins/crm:1.2.0"

    def test_target_must_be_docker(self) -> None:
        with pytest.raises(StackConfigError, match="plexica:target is 'kubernetes'; deploy_docker needs 'docker'"):
            deploy(_base_config("dev", target="kubernetes"))


def _assigned_ports(recorded: Recorded) -> dict[str, int]:
    """The host port the mock engine assigned to each container."""
    ports = {}
    for registration in recorded.of_type(CONTAINER):
        (port,) = registration.state["ports"]
        ports[registration.name] = int(port["external"])
    return ports
