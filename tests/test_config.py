"""Stack config: one typed model for every plexica:* key."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

import plexica_infra.config
from plexica_infra.config import StackConfig, stack_config_from_mapping
from plexica_infra.errors import ConfigProblem, StackConfigError
from tests.conftest import REPO


def _base_config(**overrides: Any) -> dict[str, Any]:
    return {"target": "docker", "coreApiUrl": "http://127.0.0.1:4010", "kafkaBrokers": "redpanda:29092"} | overrides


def _stack_values(stack: str) -> dict[str, Any]:
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.removeprefix("plexica:"): v for k, v in config.items() if k.startswith("plexica:")}


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_committed_stacks_are_valid(stack: str) -> None:
    config = stack_config_from_mapping(_stack_values(stack), source=f"Pulumi.{stack}.yaml")
    assert config.target == ("kubernetes" if stack == "prod" else "docker")


def test_prod_forbids_latest_and_runs_two_replicas() -> None:
    config = stack_config_from_mapping(_stack_values("prod"), source="Pulumi.prod.yaml")
    assert (config.allow_latest_tag, config.replicas_default, config.namespace) == (False, 2, "plexica")


def test_defaults() -> None:
    config = StackConfig.model_validate(_base_config())
    assert config.replicas_default == 1
    assert config.log_level == "info"
    assert config.node_env == "production"
    assert config.health.live_budget_ms == 100 and config.health.ready_budget_ms == 200
    assert config.docker.bind_address == "127.0.0.1"
    assert config.core_api_url_for_plugins == "http://127.0.0.1:4010"


def test_structured_values_arrive_as_json_text_from_pulumi() -> None:
    config = stack_config_from_mapping(
        _base_config(plugins='{"crm": {"replicas": 3, "enabled": false}}', defaultReplicas="2"), source="s"
    )
    assert config.plugins["crm"].replicas == 3 and config.plugins["crm"].enabled is False
    assert config.replicas_default == 2


def test_missing_keys_name_the_key_and_the_command() -> None:
    with pytest.raises(StackConfigError) as info:
        stack_config_from_mapping({"target": "docker"}, source="Pulumi.dev.yaml")
    message = str(info.value)
    assert (
        "Pulumi.dev.yaml: plexica:coreApiUrl: is required; set it with: pulumi config set plexica:coreApiUrl" in message
    )
    assert "plexica:kafkaBrokers: is required" in message
    by_key = {problem.key: problem for problem in info.value.problems}
    assert by_key["plexica:coreApiUrl"] == ConfigProblem(
        "Pulumi.dev.yaml",
        "plexica:coreApiUrl",
        "is required",
        "set it with: pulumi config set plexica:coreApiUrl http://core-api:3000",
    )
    assert by_key["plexica:coreApiUrl"].pointer == "/config/plexica:coreApiUrl"
    assert all("\n" not in str(problem) for problem in info.value.problems)


def test_a_nested_key_problem_points_at_its_top_key() -> None:
    with pytest.raises(StackConfigError) as info:
        stack_config_from_mapping(
            {"target": "docker", "coreApiUrl": "http://127.0.0.1:1", "kafkaBrokers": "k:1", "docker": {"hots": "x"}},
            source="Pulumi.dev.yaml",
        )
    [problem] = info.value.problems
    assert (problem.key, problem.problem, problem.pointer) == (
        "plexica:docker.hots",
        "unknown setting",
        "/config/plexica:docker",
    )
    assert problem.keyed_message == "plexica:docker.hots: unknown setting"


def test_insecure_tls_only_for_local_urls() -> None:
    with pytest.raises(StackConfigError, match="not local"):
        stack_config_from_mapping(
            _base_config(coreApiUrl="https://core.example.com", coreApiInsecureSkipTlsVerify=True), source="s"
        )
    with pytest.raises(StackConfigError, match="not local"):
        stack_config_from_mapping(
            _base_config(coreApiUrl="http://127.example.com", coreApiInsecureSkipTlsVerify=True), source="s"
        )
    ok = stack_config_from_mapping(_base_config(coreApiInsecureSkipTlsVerify="true"), source="s")
    assert ok.core_api_insecure_skip_tls_verify is True


def test_bad_url_and_typo() -> None:
    with pytest.raises(StackConfigError) as info:
        stack_config_from_mapping(_base_config(coreApiUrl="core-api:3000", logLevl="debug"), source="s")
    assert "plexica:coreApiUrl: 'core-api:3000' is not an http(s) URL" in str(info.value)
    assert "did you mean 'plexica:logLevel'" in str(info.value)


def test_core_api_url_must_not_carry_credentials() -> None:
    with pytest.raises(StackConfigError) as info:
        stack_config_from_mapping(_base_config(coreApiUrl="https://admin:hunter2@core.example.com"), source="s")
    assert "must not carry credentials" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_config_imports_no_target() -> None:
    """Targets import config, never the reverse: loading the settings loads no target module."""
    code = (
        "import sys\n"
        "import plexica_infra.config\n"
        "targets = ('plexica_infra.docker', 'plexica_infra.k8s')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(targets))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == ""
    assert {plexica_infra.config.DockerSettings.__module__, plexica_infra.config.KubernetesSettings.__module__} == {
        "plexica_infra.config.docker",
        "plexica_infra.config.kubernetes",
    }
