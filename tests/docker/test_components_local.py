"""The components under Pulumi mocks on the local stack (images resolved locally, the
network created here), and the stack settings that change what is deployed."""

from __future__ import annotations

import pytest

from plexica_infra.errors import StackConfigError
from tests.docker._components import HOOK, container, deploy
from tests.docker.conftest import (
    CONTAINER,
    GET_REMOTE_IMAGE,
    NETWORK,
    PROVIDER,
    REMOTE_IMAGE,
    SWEEP,
    Recorded,
    _base_config,
    image_id,
)


@pytest.fixture(scope="module")
def local() -> Recorded:
    return deploy(_base_config("local"))


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
