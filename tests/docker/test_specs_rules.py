"""The pure spec builders' rules across stacks: replicas, the revision hash, image
references, the env block, URLs and resource names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from plexica_infra.docker.container import container_specs, host_url, resource_name
from plexica_infra.docker.container_spec import revision
from plexica_infra.docker.env import EnvVar, plugin_env, ready_dependencies
from plexica_infra.docker.image import plugin_image
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import effective_replicas
from tests.docker._specs import ANALYTICS, CRM, crm_spec
from tests.docker.conftest import _base_config, manifest


class TestReplicas:
    def test_stack_override_wins(self) -> None:
        stack = _base_config(plugins={"crm": {"replicas": 3}})
        assert effective_replicas(manifest("crm", replicas=2), stack) == 3

    def test_manifest_beats_stack_default(self) -> None:
        stack = _base_config(defaultReplicas=4)
        assert effective_replicas(manifest("crm", replicas=2), stack) == 2

    def test_stack_default(self) -> None:
        assert effective_replicas(CRM, _base_config(defaultReplicas=4)) == 4

    def test_override_without_replicas_falls_through(self) -> None:
        stack = _base_config(plugins={"crm": {"enabled": False}})
        assert effective_replicas(manifest("crm", replicas=2), stack) == 2

    def test_one_spec_per_instance_with_one_revision(self) -> None:
        specs = container_specs(manifest("crm", replicas=3), _base_config())
        assert [s.resource_name for s in specs] == [
            "plexica-plugin-crm",
            "plexica-plugin-crm-2",
            "plexica-plugin-crm-3",
        ]
        assert [s.instance for s in specs] == [1, 2, 3]
        assert [s.labels["plexica.instance"] for s in specs] == ["1", "2", "3"]
        assert len({s.revision for s in specs}) == 1
        assert all(s.aliases == ("plexica-plugin-crm", "plugin-crm") for s in specs)

    def test_scaling_keeps_the_first_instance(self) -> None:
        """Scaling 1 -> 2 adds a resource; it neither renames nor changes instance 1."""
        (one,) = container_specs(CRM, _base_config())
        first, _second = container_specs(manifest("crm", replicas=2), _base_config())
        assert first == one


class TestRevision:
    def test_unchanged_spec_gives_the_same_revision(self) -> None:
        assert crm_spec().revision == crm_spec().revision
        assert len(crm_spec().revision) == 12

    def test_revision_is_the_hash_of_the_spec(self) -> None:
        spec = crm_spec()
        assert revision(spec) == spec.revision

    @pytest.mark.parametrize(
        "change",
        [
            {"image": "registry.plexica.io/plugins/crm:1.3.0"},
            {"cpus": "1.0"},
            {"memory_mib": 1024},
            {"memory_reservation_mib": 128},
            {"user": "0:0"},
            {"read_only": False},
            {"network": "other"},
            {"wait_timeout_seconds": 60},
            {"restart": "always"},
            {"env": (EnvVar("PLUGIN_ID", "crm"),)},
        ],
    )
    def test_any_spec_change_changes_the_revision(self, change: dict[str, object]) -> None:
        spec = crm_spec()
        assert revision(replace(spec, **change)) != spec.revision  # type: ignore[arg-type]

    def test_stack_changes_change_the_revision(self) -> None:
        assert crm_spec(_base_config(logLevel="info")).revision != crm_spec().revision
        assert crm_spec(_base_config(docker={"healthTimeoutSeconds": 60})).revision != crm_spec().revision

    def test_instance_number_does_not_change_the_revision(self) -> None:
        spec = crm_spec()
        assert revision(replace(spec, resource_name="x", instance=7)) == spec.revision

    def test_secret_values_are_not_in_the_spec(self) -> None:
        """Only which secret a variable takes is in the spec (and so in the revision)."""
        secret_vars = [var for var in crm_spec().env if var.secret is not None]
        assert [(var.name, var.value, var.secret) for var in secret_vars] == [
            ("DATABASE_URL", None, "database_url"),
            ("REDIS_URL", None, "redis_url"),
            ("JWT_SECRET", None, "jwt_secret"),
        ]


class TestImage:
    def test_registry_override_replaces_the_registry(self) -> None:
        stack = _base_config(imageRegistry="mirror.local:5000")
        assert plugin_image(CRM, stack) == "mirror.local:5000/plugins/crm:1.2.0"
        assert crm_spec(stack).image == "mirror.local:5000/plugins/crm:1.2.0"
        assert crm_spec(stack).labels["plexica.image"] == "mirror.local:5000/plugins/crm:1.2.0"

    def test_registry_override_keeps_a_digest(self) -> None:
        digest = "sha256:" + "a" * 64
        data = manifest("crm").model_dump(mode="json", by_alias=True)
        data["runtime"]["image"] = f"registry.plexica.io/plugins/crm:1.2.0@{digest}"
        pinned = PluginManifest.model_validate(data)
        assert plugin_image(pinned, _base_config(imageRegistry="mirror.local/")) == (
            f"mirror.local/plugins/crm:1.2.0@{digest}"
        )


class TestEnv:
    def test_manifest_env_comes_last(self) -> None:
        env = plugin_env(manifest("crm", env={"FEATURE_X": "on", "A_FIRST": "1"}), _base_config(), {})
        assert env[-2:] == (EnvVar("FEATURE_X", "on"), EnvVar("A_FIRST", "1"))

    def test_plugin_core_api_url_defaults_to_core_api_url(self) -> None:
        stack = _base_config(pluginCoreApiUrl=None)
        env = {var.name: var.value for var in plugin_env(CRM, stack, {})}
        assert env["CORE_API_URL"] == "http://localhost:3000"

    def test_ready_dependencies_lists_every_dependency(self) -> None:
        other = manifest("crm").model_copy(update={"id": "billing"})
        billing = other.model_copy(update={"deployment": other.deployment.model_copy(update={"port": 3300})})
        dependent = manifest("analytics", dependencies=["crm", "billing"])
        assert ready_dependencies(dependent, {"crm": CRM, "billing": billing}) == (
            "http://plugin-crm:3100/health/live,http://plugin-billing:3300/health/live"
        )

    def test_missing_dependency_is_named(self) -> None:
        with pytest.raises(KeyError, match="'analytics' depends on 'crm', which is not being deployed"):
            ready_dependencies(ANALYTICS, {})

    def test_manifest_may_not_set_ready_dependencies(self) -> None:
        with pytest.raises(ValueError, match="READY_DEPENDENCIES, which the platform sets itself"):
            manifest("analytics", env={"READY_DEPENDENCIES": "http://x"})

    def test_env_var_needs_exactly_one_source(self) -> None:
        with pytest.raises(ValueError, match="set exactly one of value or secret"):
            EnvVar("X")
        with pytest.raises(ValueError, match="set exactly one of value or secret"):
            EnvVar("X", "v", secret="jwt_secret")


class TestUrlsAndNames:
    @pytest.mark.parametrize(
        ("bind", "url"),
        [
            ("127.0.0.1", "http://127.0.0.1:32768"),
            ("0.0.0.0", "http://127.0.0.1:32768"),
            ("192.0.2.10", "http://192.0.2.10:32768"),
            ("::1", "http://[::1]:32768"),
            ("::", "http://[::1]:32768"),
        ],
    )
    def test_host_url(self, bind: str, url: str) -> None:
        assert host_url(bind, 32768) == url

    def test_resource_names(self) -> None:
        assert resource_name("crm", 1) == "plexica-plugin-crm"
        assert resource_name("crm", 2) == "plexica-plugin-crm-2"

    def test_bind_address_from_the_stack(self) -> None:
        (port,) = crm_spec(_base_config(docker={"bindAddress": "0.0.0.0", "allowPublicBind": True})).ports
        assert port.ip == "0.0.0.0"
