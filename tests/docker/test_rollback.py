"""The rollback hook and its Docker Engine client, against a fake engine that speaks the
Engine API over a real unix socket (and TCP): `_fake_engine.py`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from plexica_infra.docker._engine import DEFAULT_DOCKER_HOST, EngineClient, EngineError, docker_host
from plexica_infra.docker.rollback import cleanup_hook, remove_failed_container
from tests.docker._fake_engine import Engine, serve_tcp, serve_unix
from tests.docker.conftest import SECRET_VALUES, contains_plain_secret, run_program

NAME = "plexica-plugin-crm-4f2a9c1"
LABELS = {"plexica.managed-by": "plexica-infra", "plexica.plugin": "crm", "plexica.revision": "8476b020f314"}
HEALTH_ERROR = "creating urn:...: container failed to be in healthy state"


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def unix_host(engine: Engine, tmp_path: Path) -> Iterator[str]:
    with serve_unix(engine, tmp_path / "docker.sock") as host:
        yield host


@pytest.fixture
def tcp_host(engine: Engine) -> Iterator[str]:
    with serve_tcp(engine) as host:
        yield host


@dataclass
class Log:
    info: list[str] = field(default_factory=list)
    warn: list[str] = field(default_factory=list)


def failed_create(
    name: str = NAME, labels: dict[str, str] | None = None, errors: list[str] | None = None, operation: str = "create"
) -> pulumi.ErrorHookArgs:
    inputs = {
        "name": name,
        "labels": [{"label": k, "value": v} for k, v in (labels or LABELS).items()],
        # What the engine hands the hook: the create's inputs, secret env included.
        "envs": [f"DATABASE_URL={SECRET_VALUES['database_url']}", f"JWT_SECRET={SECRET_VALUES['jwt_secret']}"],
    }
    return pulumi.ErrorHookArgs(
        urn="urn:pulumi:dev::plexica-infra::plexica:docker:Plugin$docker:index/container:Container::plexica-plugin-crm",
        id="",
        name="plexica-plugin-crm",
        type="docker:index/container:Container",
        new_inputs=inputs,
        failed_operation=operation,
        errors=errors if errors is not None else [HEALTH_ERROR],
    )


def run_hook(args: pulumi.ErrorHookArgs, host: str) -> tuple[bool, Log]:
    log = Log()
    retry = remove_failed_container(args, lambda: EngineClient(host), info=log.info.append, warn=log.warn.append)
    return retry, log


class TestRemoveFailedContainer:
    def test_removes_the_failed_container(self, engine: Engine, unix_host: str) -> None:
        container_id = engine.add(NAME, LABELS)
        retry, log = run_hook(failed_create(), unix_host)
        assert retry is False
        assert engine.containers == {}
        assert engine.requests == [
            ("GET", f"/containers/{NAME}/json"),
            ("DELETE", f"/containers/{container_id}?v=True&link=False&force=True"),
        ]
        (message,) = log.warn
        assert f"removed container {NAME} ({container_id[:12]})" in message
        assert "previous container, if any, keeps running" in message

    def test_leaves_a_container_of_another_revision(self, engine: Engine, unix_host: str) -> None:
        engine.add(NAME, {**LABELS, "plexica.revision": "000000000000"})
        retry, log = run_hook(failed_create(), unix_host)
        assert retry is False
        assert len(engine.containers) == 1
        assert [method for method, _ in engine.requests] == ["GET"]
        assert log.warn == [
            f"plexica-plugin-crm: container {NAME} exists but its labels (plexica.revision) do not match the "
            "failed create; left it alone"
        ]

    def test_leaves_an_unmanaged_container(self, engine: Engine, unix_host: str) -> None:
        engine.add(NAME, {})
        run_hook(failed_create(), unix_host)
        assert len(engine.containers) == 1
        assert [method for method, _ in engine.requests] == ["GET"]

    def test_nothing_left_behind(self, engine: Engine, unix_host: str) -> None:
        retry, log = run_hook(failed_create(), unix_host)
        assert retry is False
        assert engine.requests == [("GET", f"/containers/{NAME}/json")]
        assert log.info == [f"plexica-plugin-crm: the failed create left no container {NAME} behind"]
        assert log.warn == []

    def test_name_conflict_leaves_the_existing_container(self, engine: Engine, unix_host: str) -> None:
        engine.add(NAME, LABELS)
        conflict = f'Error response from daemon: Conflict. The container name "/{NAME}" is already in use'
        retry, log = run_hook(failed_create(errors=[conflict]), unix_host)
        assert retry is False
        assert engine.requests == []
        assert len(engine.containers) == 1
        assert log.info == [
            f"plexica-plugin-crm: container name {NAME} belongs to an existing container; left it alone"
        ]

    @pytest.mark.parametrize("operation", ["update", "delete"])
    def test_only_creates(self, engine: Engine, unix_host: str, operation: str) -> None:
        engine.add(NAME, LABELS)
        assert run_hook(failed_create(operation=operation), unix_host)[0] is False
        assert engine.requests == []

    def test_no_name(self, engine: Engine, unix_host: str) -> None:
        args = failed_create()
        assert args.new_inputs is not None
        inputs = {k: v for k, v in args.new_inputs.items() if k != "name"}
        retry, log = run_hook(pulumi.ErrorHookArgs(**{**vars(args), "new_inputs": inputs}), unix_host)
        assert retry is False
        assert engine.requests == []
        assert "no container name" in log.warn[0]

    def test_unreachable_engine_tells_how_to_clean_up(self, tmp_path: Path) -> None:
        retry, log = run_hook(failed_create(), f"unix://{tmp_path}/absent.sock")
        assert retry is False
        (message,) = log.warn
        assert f"could not remove container {NAME}" in message
        assert f"`docker rm -f {NAME}`" in message

    def test_unsupported_host_tells_how_to_clean_up(self) -> None:
        retry, log = run_hook(failed_create(), "npipe:////./pipe/docker_engine")
        assert retry is False
        assert "only unix://, tcp:// and ssh:// hosts are supported" in log.warn[0]
        assert f"`docker rm -f {NAME}`" in log.warn[0]

    def test_engine_error_is_reported(self, engine: Engine, unix_host: str) -> None:
        engine.fail_with = 500
        retry, log = run_hook(failed_create(), unix_host)
        assert retry is False
        assert f"inspecting container {NAME}: HTTP 500: engine is unhappy" in log.warn[0]

    @pytest.mark.parametrize("present", [True, False])
    def test_never_logs_the_create_inputs(self, engine: Engine, unix_host: str, present: bool) -> None:
        if present:
            engine.add(NAME, LABELS)
        _, log = run_hook(failed_create(), unix_host)
        assert log.info or log.warn
        assert not contains_plain_secret(log.info + log.warn)


class TestEngineClient:
    def test_tcp(self, engine: Engine, tcp_host: str) -> None:
        container_id = engine.add(NAME, LABELS)
        client = EngineClient(tcp_host)
        found = client.inspect_container(NAME)
        assert found is not None and found["Id"] == container_id
        assert client.remove_container(container_id) is True
        assert client.remove_container(container_id) is False
        assert client.inspect_container(NAME) is None

    def test_impossible_names_are_never_sent(self, engine: Engine, unix_host: str) -> None:
        """A name Docker cannot give a container (here one that would climb the API path) is not looked up."""
        assert EngineClient(unix_host).inspect_container("a/../b") is None
        assert EngineClient(unix_host).remove_container("../images/x") is False
        assert engine.requests == []

    def test_host_precedence(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("DOCKER_HOST", raising=False)
        assert docker_host(None) == DEFAULT_DOCKER_HOST == "unix:///var/run/docker.sock"
        monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2375")
        assert docker_host(None) == "tcp://10.0.0.5:2375"
        assert docker_host("unix:///run/user/1000/docker.sock") == "unix:///run/user/1000/docker.sock"

    def test_unsupported_scheme(self) -> None:
        with pytest.raises(EngineError, match="only unix://, tcp:// and ssh:// hosts are supported"):
            EngineClient("npipe:////./pipe/docker_engine")


def test_registered_hook_removes_through_the_engine(engine: Engine, unix_host: str) -> None:
    """The ErrorHook the platform registers calls the removal for its engine host."""
    hooks: list[pulumi.ErrorHook] = []

    def register() -> dict[str, Any]:
        hooks.append(cleanup_hook(unix_host, name="t"))
        return {}

    run_program(register)
    engine.add(NAME, LABELS)
    (hook,) = hooks
    assert hook.name == "t"
    assert asyncio.run(hook.callback(failed_create())) is False  # type: ignore[arg-type]
    assert engine.containers == {}
