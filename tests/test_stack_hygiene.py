"""Issue 12, finding 5: stack config that widened what a deploy exposes.

Each of these was accepted before: a cleartext token to a remote Core API, a token
in the URL, every plugin port on every interface, a remote plain-TCP engine, empty
selectors that match every pod, health numbers of 10^30, and secrets passed as
command-line arguments.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.config import SECRET_KEYS, stack_config_from_mapping
from plexica_infra.errors import StackConfigError
from tests.conftest import REPO, WritePlugins

BASE: dict[str, Any] = {"target": "docker", "coreApiUrl": "http://127.0.0.1:4010", "kafkaBrokers": "redpanda:29092"}
K8S: dict[str, Any] = {**BASE, "target": "kubernetes", "coreApiUrl": "https://core-api.example.com"}


def _refused(values: dict[str, Any]) -> str:
    with pytest.raises(StackConfigError) as info:
        stack_config_from_mapping(values, source="Pulumi.qa.yaml")
    message = str(info.value)
    assert "Traceback" not in message
    return message


@pytest.mark.parametrize(
    "url", ["http://core-api.example.com", "http://10.0.0.5:3000", "http://core-api:3000", "HTTP://Core.Example.com"]
)
def test_remote_core_api_needs_tls(url: str) -> None:
    message = _refused({**BASE, "coreApiUrl": url})
    assert "plain http:// to a host other than this one" in message
    assert "plexica:coreApiInsecurePlaintextHttp: true" in message


def test_plaintext_core_api_is_an_explicit_opt_out_and_loopback_is_fine() -> None:
    opted = stack_config_from_mapping(
        {**BASE, "coreApiUrl": "http://core-api:3000", "coreApiInsecurePlaintextHttp": True}, source="s"
    )
    assert opted.core_api_insecure_plaintext_http is True
    for url in ("http://127.0.0.1:4010", "http://localhost:3000", "http://[::1]:3000", "https://core.example.com"):
        assert stack_config_from_mapping({**BASE, "coreApiUrl": url}, source="s").core_api_url == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://core.example.com/?token=abc123", "must not carry a query string"),
        ("https://core.example.com/api#access_token=abc123", "must not carry a query string"),
        ("https://core.example.com/api?", "must not carry a query string"),
        ("https://admin:abc123@core.example.com", "must not carry credentials"),
        ("https://abc123@core.example.com", "must not carry credentials"),
        ("https://core.example.com\n", "is not a URL"),
        ("https://core.example.com:99999", "has an invalid port"),
        ("https://core.example.com:x", "has an invalid port"),
    ],
)
def test_urls_carry_no_credentials(url: str, fragment: str) -> None:
    for key in ("coreApiUrl", "pluginCoreApiUrl"):
        message = _refused({**BASE, key: url} if key == "coreApiUrl" else {**K8S, key: url})
        assert fragment in message
        assert "abc123" not in message


def test_public_bind_address_is_an_explicit_opt_out() -> None:
    message = _refused({**BASE, "docker": {"bindAddress": "0.0.0.0"}})
    assert "bindAddress 0.0.0.0 publishes every plugin port beyond this host" in message
    assert "allowPublicBind: true" in message
    assert _refused({**BASE, "docker": {"bindAddress": "192.0.2.4"}})
    opted = stack_config_from_mapping({**BASE, "docker": {"bindAddress": "::", "allowPublicBind": True}}, source="s")
    assert opted.docker.bind_address == "::"


@pytest.mark.parametrize(
    "host", ["tcp://10.0.0.5:2375", "tcp://docker.example.com:2376", "http://10.0.0.5:2375", "ssh://u@host"]
)
def test_remote_docker_engines_are_refused(host: str) -> None:
    message = _refused({**BASE, "docker": {"host": host}})
    assert "is a remote Docker engine" in message
    assert "ssh -nNT -L" in message


def test_local_docker_engines_are_accepted() -> None:
    for host in ("unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "tcp://localhost:2375", "tcp://[::1]:2375"):
        assert stack_config_from_mapping({**BASE, "docker": {"host": host}}, source="s").docker.host == host
    assert "is not a Docker host" in _refused({**BASE, "docker": {"host": "npipe:////./pipe/x"}})


@pytest.mark.parametrize(
    "kubernetes",
    [
        {"gatewaySelector": {}},
        {"dnsNamespaceSelector": {}},
        {"prometheusSelector": {}},
        {"prometheusNamespaceSelector": {}},
        {"postgres": {"selector": {}, "port": 5432}},
        {"coreApi": {"selector": {"component": "core-api"}, "namespaceSelector": {}, "port": 3000}},
    ],
)
def test_selectors_are_never_empty(kubernetes: dict[str, Any]) -> None:
    message = _refused({**K8S, "kubernetes": kubernetes})
    assert "an empty selector matches every pod or namespace" in message


@pytest.mark.parametrize(
    ("section", "key", "bound"),
    [
        ("health", "liveBudgetMs", "60000"),
        ("health", "readyBudgetMs", "60000"),
        ("health", "startPeriodSeconds", "3600"),
        ("health", "failureThreshold", "100"),
        ("health", "deadlineSeconds", "3600"),
        ("kubernetes", "progressDeadlineSeconds", "7200"),
        ("docker", "healthTimeoutSeconds", "3600"),
        (None, "defaultReplicas", "100"),
    ],
)
def test_health_numbers_are_bounded_and_the_bound_is_named(section: str | None, key: str, bound: str) -> None:
    huge = 10**30
    values = {**K8S, key: huge} if section is None else {**K8S, section: {key: huge}}
    message = _refused(values)
    assert f"less than or equal to {bound}" in message
    assert "Traceback" not in message


def test_pulumi_config_json_with_huge_or_deep_values_is_one_problem() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert "plexica:plugins" in _refused({**BASE, "plugins": deep})
    assert "plexica:health" in _refused({**BASE, "health": '{"liveBudgetMs": ' + "9" * 5000 + "}"})


def test_secret_hints_never_put_the_value_on_the_command_line() -> None:
    """Every place that tells a user how to set a secret reads it from a prompt or stdin."""
    argv_secret = re.compile(r"pulumi config set --secret[^\n`]*plexica:(" + "|".join(SECRET_KEYS) + r")\s+(['\"]|<\S)")
    for path in [REPO / "README.md", *REPO.glob("Pulumi.*.yaml"), *(REPO / "plexica_infra").rglob("*.py")]:
        text = path.read_text()
        assert not argv_secret.search(text), f"{path} tells users to put a secret on the command line"
    from plexica_infra.config import secret_set_command

    hint = secret_set_command("prod", "coreApiToken")
    assert hint.startswith("pulumi config set --secret --stack prod plexica:coreApiToken, then type the value")


def test_hostile_stack_files_are_one_problem_line(tmp_path: Path, write_plugins: WritePlugins) -> None:
    plugins_dir = write_plugins()
    base = (
        "config:\n  plexica:target: docker\n  plexica:coreApiUrl: http://127.0.0.1:4010\n  plexica:kafkaBrokers: k:1\n"
    )
    (tmp_path / "Pulumi.deep.yaml").write_text(base + "  plexica:plugins: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (tmp_path / "Pulumi.huge.yaml").write_text(base + "  plexica:defaultReplicas: " + "9" * 5000 + "\n")
    (tmp_path / "Pulumi.bidi.yaml").write_text(base.replace("k:1", '"k:1\\u202e"'))
    for stack in ("deep", "huge", "bidi"):
        result = subprocess.run(
            [sys.executable, "-m", "plexica_infra", "validate", str(plugins_dir), "--stack", stack],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1, (stack, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr, stack
        assert len(result.stdout.strip().splitlines()) == 1, (stack, result.stdout)
        assert result.stdout.startswith(f"Pulumi.{stack}.yaml: "), result.stdout
