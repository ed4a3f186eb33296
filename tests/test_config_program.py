"""`read_stack_config` inside a program: the keys as the language host hands them over
(`PULUMI_CONFIG`, `PULUMI_CONFIG_SECRET_KEYS`, then the SDK's `set_all_config`), read
through `pulumi.Config`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from plexica_infra.config import StackConfig, StackSecrets, read_stack_config
from plexica_infra.errors import StackConfigError

BASE = {
    "target": "docker",
    "coreApiUrl": "http://127.0.0.1:4010",
    "kafkaBrokers": "redpanda:29092",
    "docker": json.dumps({"network": "plexica-network", "registryEndpoints": "host"}),
}
SECRETS = {
    "coreApiToken": "t0ken-value",
    "databaseUrl": "postgresql://db-value",
    "redisUrl": "redis://redis-value",
    "jwtSecret": "jwt-signing-value",
}

Handover = Callable[..., None]


class _NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raise AssertionError("reading config creates no resource")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        raise AssertionError("reading config calls nothing")


@pytest.fixture
def handover(monkeypatch: pytest.MonkeyPatch) -> Iterator[Handover]:
    """Hand `plain` and `secret` keys (prefix stripped) to the program as the engine does."""
    pulumi.runtime.set_mocks(_NoResources(), project="plexica-infra", stack="dev", preview=False)

    def hand(plain: dict[str, str], secret: dict[str, str]) -> None:
        everything = {f"plexica:{key}": value for key, value in {**plain, **secret}.items()}
        secret_keys = sorted(f"plexica:{key}" for key in secret)
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(everything))
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(secret_keys))
        pulumi.runtime.set_all_config(everything, secret_keys)

    yield hand
    pulumi.runtime.set_all_config({}, [])


def _run(read: Callable[[], tuple[StackConfig, StackSecrets]]) -> tuple[StackConfig, dict[str, Any]]:
    found: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        config, secrets = read()
        found["config"] = config
        return pulumi.Output.all(token=secrets.core_api_token, database=secrets.database_url).apply(found.update)

    program()
    return found["config"], found


def test_a_valid_stack_reads_plain_keys_into_the_model_and_the_secrets_apart(handover: Handover) -> None:
    handover(BASE, SECRETS)
    config, found = _run(read_stack_config)
    assert (config.target, config.core_api_url, config.docker.registry_endpoints) == (
        "docker",
        "http://127.0.0.1:4010",
        "host",
    )
    assert (found["token"], found["database"]) == ("t0ken-value", "postgresql://db-value")


def test_a_typo_is_an_unknown_key(handover: Handover) -> None:
    handover({**BASE, "kafkaBroker": "x"}, SECRETS)
    with pytest.raises(StackConfigError) as info:
        read_stack_config()
    [problem] = info.value.problems
    assert (
        str(problem) == "Pulumi.dev.yaml: plexica:kafkaBroker: unknown config key; did you mean 'plexica:kafkaBrokers'?"
    )


def test_a_secret_in_plaintext_and_a_setting_stored_as_secret_are_refused(handover: Handover) -> None:
    plain = {**BASE, "jwtSecret": SECRETS["jwtSecret"]}
    secret = {key: value for key, value in SECRETS.items() if key != "jwtSecret"} | {"logLevel": "info"}
    handover(plain, secret)
    with pytest.raises(StackConfigError) as info:
        read_stack_config()
    by_key = {problem.key: problem for problem in info.value.problems}
    assert set(by_key) == {"plexica:jwtSecret", "plexica:logLevel"}
    assert by_key["plexica:jwtSecret"].problem == "is a secret but stored in plaintext"
    assert "pulumi config set --secret --stack dev plexica:jwtSecret" in by_key["plexica:jwtSecret"].accepted
    assert str(by_key["plexica:logLevel"]) == (
        "Pulumi.dev.yaml: plexica:logLevel: is stored as a secret but holds plain settings; set it without --secret"
    )
    assert SECRETS["jwtSecret"] not in str(info.value)


def test_a_missing_secret_names_the_key_and_how_to_set_it(handover: Handover) -> None:
    handover(BASE, {key: value for key, value in SECRETS.items() if key != "redisUrl"})
    with pytest.raises(StackConfigError) as info:
        read_stack_config()
    [problem] = info.value.problems
    assert (problem.key, problem.problem) == ("plexica:redisUrl", "secret is not set")
    assert "\n" not in str(problem)
