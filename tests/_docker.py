"""Reusable helpers and fixtures for tests that need a real Docker engine (docker-py).

Import the fixtures into a conftest.py::

    from _docker import docker, docker_host, docker_resources, plugin_image  # noqa: F401

- `docker_host` (session): `ensure_docker(<repo>/.state)`; exported as DOCKER_HOST for
  the session. If no engine can be found or started the test FAILS (never skips).
- `docker` (session): a `DockerEngine` bound to that host, over the package's one
  docker-py client (`plexica_infra.docker._engine.engine_client`).
- `plugin_image` (session): the reference plugin image, tagged `PLUGIN_TEST_IMAGE`.
- `docker_resources` (function): a `DockerResources` that names everything
  `plexica-test-<random>-...` and removes what it created at teardown.

`DockerEngine.run(*args)` is the one way left to the docker CLI, for callers that still
pass CLI arguments (`docker exec`, `top`, `ps --filter`, `compose`-era benchmarks);
everything else here is an Engine API call. `DockerCLI` is the class's former name.

Every wait is bounded in count and time; traffic only goes to 127.0.0.1 and to
networks/containers the test created.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from docker import APIClient
from docker.errors import DockerException, NotFound

from plexica_infra.docker._engine import EngineError, engine_client
from plexica_infra.localenv import LocalEnvError, build_plugin_images, ensure_docker

__all__ = [
    "HARDENED_RUN_ARGS",
    "PLUGIN_TEST_IMAGE",
    "REPO",
    "STATE_DIR",
    "DockerCLI",
    "DockerEngine",
    "DockerResources",
    "docker",
    "docker_host",
    "docker_resources",
    "free_port",
    "plugin_image",
    "run_options",
    "wait_http",
]

REPO = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("PLEXICA_STATE_DIR") or REPO / ".state").resolve()
PLUGIN_TEST_IMAGE = "plexica-test/reference-plugin:dev"
PLUGIN_PORT = 3100
LIVE_HEALTH_CMD = f"/plugin healthcheck http://127.0.0.1:{PLUGIN_PORT}/health/live"

#: The guide's limits for a "Complex Logic" plugin plus container hardening.
HARDENED_RUN_ARGS: tuple[str, ...] = (
    "--memory", "512m",
    "--cpus", "0.5",
    "--read-only",
    "--tmpfs", "/tmp",
    "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
    "--user", "1001:1001",
    "-p", f"127.0.0.1::{PLUGIN_PORT}",
    "--health-cmd", LIVE_HEALTH_CMD,
)  # fmt: skip


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, *, status: int | None = 200, timeout: float = 30.0, interval: float = 0.1) -> httpx.Response:
    """Poll GET `url` until it answers `status` (any status if None); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: str = "no attempt"
    while True:
        try:
            resp = httpx.get(url, timeout=2.0, trust_env=False)
            if status is None or resp.status_code == status:
                return resp
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            pytest.fail(f"{url} did not answer {status} within {timeout:.0f}s (last: {last})", pytrace=False)
        time.sleep(interval)


_TEST_LABEL = {"io.plexica.test": "1"}
_DURATION_UNITS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _nanoseconds(flag: str, value: str) -> int:
    for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
        if value.endswith(unit) and value[: -len(unit)].replace(".", "", 1).isdigit():
            return int(float(value[: -len(unit)]) * _DURATION_UNITS[unit])
    pytest.fail(f"docker run {flag} {value!r}: not a duration such as '1s' or '500ms'", pytrace=False)


def _published(value: str) -> dict[str, tuple[str, int | None]]:
    """`-p [ip:][host-port:]container-port` as docker-py's `ports`."""
    parts = value.split(":")
    container_port = f"{parts[-1]}/tcp" if "/" not in parts[-1] else parts[-1]
    host_ip = parts[0] if len(parts) == 3 else "127.0.0.1" if len(parts) == 1 else ""
    host_port = parts[-2] if len(parts) >= 2 else ""
    if len(parts) == 2:
        host_ip, host_port = "", parts[0]
    return {container_port: (host_ip, int(host_port) if host_port else None)}


def _setter(key: str, convert: Callable[[str, str], Any] = lambda _, value: value) -> Callable[..., None]:
    def apply(options: dict[str, Any], flag: str, value: str) -> None:
        options[key] = convert(flag, value)

    return apply


def _appender(key: str) -> Callable[..., None]:
    def apply(options: dict[str, Any], _: str, value: str) -> None:
        options.setdefault(key, []).append(value)

    return apply


def _health(key: str, convert: Callable[[str, str], Any]) -> Callable[..., None]:
    def apply(options: dict[str, Any], flag: str, value: str) -> None:
        options.setdefault("healthcheck", {})[key] = convert(flag, value)

    return apply


def _mapping(key: str, split: Callable[[str], tuple[str, Any]]) -> Callable[..., None]:
    def apply(options: dict[str, Any], _: str, value: str) -> None:
        name, setting = split(value)
        options.setdefault(key, {})[name] = setting

    return apply


#: The `docker run` flags these tests use, as docker-py `containers.run` keyword arguments.
_RUN_FLAGS: dict[str, Callable[..., None]] = {
    "--network": _setter("network"),
    "--memory": _setter("mem_limit"),
    "--cpus": _setter("nano_cpus", lambda _, value: round(float(value) * 10**9)),
    "--user": _setter("user"),
    "--cap-drop": _appender("cap_drop"),
    "--security-opt": _appender("security_opt"),
    "--tmpfs": _mapping("tmpfs", lambda value: (value.partition(":")[0], value.partition(":")[2])),
    "--add-host": _mapping("extra_hosts", lambda value: (value.partition(":")[0], value.partition(":")[2])),
    "-e": _mapping("environment", lambda value: (value.partition("=")[0], value.partition("=")[2])),
    "-p": lambda options, _, value: options.setdefault("ports", {}).update(_published(value)),
    "--health-cmd": _health("test", lambda _, value: ["CMD-SHELL", value]),
    "--health-interval": _health("interval", _nanoseconds),
    "--health-timeout": _health("timeout", _nanoseconds),
    "--health-start-period": _health("start_period", _nanoseconds),
    "--health-retries": _health("retries", lambda _, value: int(value)),
}


def run_options(args: Sequence[str]) -> dict[str, Any]:
    """`docker run` flags (`HARDENED_RUN_ARGS`, `--network NET`, ...) as docker-py's
    `containers.run` arguments; an unsupported flag fails the test naming it."""
    options: dict[str, Any] = {}
    rest = iter(args)
    for flag in rest:
        if flag == "--read-only":
            options["read_only"] = True
            continue
        apply = _RUN_FLAGS.get(flag)
        value = next(rest, None)
        if apply is None or value is None:
            accepted = ", ".join(["--read-only", *_RUN_FLAGS])
            problem = "is not supported" if apply is None else "needs a value"
            pytest.fail(f"tests/_docker.py: docker run flag {flag!r} {problem}; accepted: {accepted}", pytrace=False)
        apply(options, flag, value)
    return options


class DockerEngine:
    """One Docker engine, through docker-py; `run` reaches the docker CLI for CLI-shaped callers."""

    def __init__(self, host: str) -> None:
        self.host = host
        try:
            self.client = engine_client(host)
        except EngineError as exc:
            pytest.fail(str(exc), pytrace=False)

    @property
    def api(self) -> APIClient:
        return self.client.api

    def run(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """`docker ARGS...` against this engine (the CLI; prefer the Engine API methods)."""
        cli = shutil.which("docker")
        if cli is None:
            pytest.fail(f"docker {' '.join(args)}: the docker CLI is not on PATH", pytrace=False)
        proc = subprocess.run(
            [cli, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "DOCKER_HOST": self.host},
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}",
                pytrace=False,
            )
        return proc

    def _call(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`call(*args, **kwargs)`; a failure fails the test naming `what`."""
        try:
            return call(*args, **kwargs)
        except NotFound as exc:
            pytest.fail(f"{what}: not found ({exc.explanation or exc})", pytrace=False)
        except DockerException as exc:
            pytest.fail(f"{what} failed: {exc}", pytrace=False)

    def inspect(self, *names: str, kind: str = "container") -> list[dict[str, Any]]:
        inspectors: dict[str, Callable[[str], dict[str, Any]]] = {
            "container": self.api.inspect_container,
            "image": self.api.inspect_image,
            "network": self.api.inspect_network,
        }
        inspect = inspectors[kind]
        return [self._call(f"inspecting {kind} {name}", inspect, name) for name in names]

    def published_port(self, container: str, port: int = PLUGIN_PORT) -> int:
        """Host port that 127.0.0.1 publishes for `port`/tcp of `container`."""
        bindings = self._call(f"ports of {container}", self.api.port, container, port) or []
        for binding in bindings:
            if binding.get("HostIp") == "127.0.0.1":
                return int(binding["HostPort"])
        pytest.fail(f"{container} publishes no 127.0.0.1 port for {port}/tcp", pytrace=False)

    def logs(self, container: str) -> str:
        try:
            output: bytes = self.api.logs(container, stdout=True, stderr=True)
        except DockerException as exc:
            return f"(no logs: {exc})"
        return output.decode(errors="replace")

    def health(self, container: str) -> dict[str, Any]:
        state = self.inspect(container)[0]["State"]
        health: dict[str, Any] = state.get("Health") or {}
        health["_running"] = state.get("Running")
        health["_exit_code"] = state.get("ExitCode")
        return health

    def wait_health(self, container: str, status: str = "healthy", timeout: float = 90.0) -> None:
        """Wait until Docker reports `status` for the container's health check (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health(container)
            if health.get("Status") == status:
                return
            if not health["_running"] and status == "healthy":
                pytest.fail(
                    f"{container} exited ({health['_exit_code']}) before becoming healthy; logs:\n"
                    f"{self.logs(container)[-2000:]}",
                    pytrace=False,
                )
            if time.monotonic() >= deadline:
                probes = [entry.get("Output", "").strip() for entry in health.get("Log", [])][-3:]
                pytest.fail(
                    f"{container} not {status} within {timeout:.0f}s (status {health.get('Status')}, "
                    f"last probes {probes}); logs:\n{self.logs(container)[-2000:]}",
                    pytrace=False,
                )
            time.sleep(0.25)


#: The class's name from when it drove the docker CLI (bench/ and the suites import it).
DockerCLI = DockerEngine


class DockerResources:
    """Creates uniquely named networks/containers and removes them at teardown."""

    def __init__(self, docker: DockerEngine) -> None:
        self.docker = docker
        self.prefix = f"plexica-test-{secrets.token_hex(4)}"
        self.containers: list[str] = []
        self.networks: list[str] = []
        self.images: list[str] = []

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def network(self, suffix: str = "net") -> str:
        name = self.name(suffix)
        self.networks.append(name)
        self.docker._call(f"creating network {name}", self.docker.api.create_network, name, labels=_TEST_LABEL)
        return name

    def container(
        self,
        suffix: str,
        image: str,
        *run_args: str,
        env: dict[str, str] | None = None,
        command: Sequence[str] = (),
    ) -> str:
        """Run a detached container named `<prefix>-<suffix>` (`run_args`: `docker run` flags,
        see `run_options`); returns its name."""
        name = self.name(suffix)
        options = run_options(run_args)
        options.setdefault("environment", {}).update(env or {})
        self.containers.append(name)
        self.docker._call(
            f"starting container {name} from {image}",
            self.docker.client.containers.run,
            image,
            list(command) or None,
            name=name,
            detach=True,
            labels=_TEST_LABEL,
            **options,
        )
        return name

    def tag(self, source: str, suffix: str) -> str:
        repository = f"{self.prefix}/image"
        ref = f"{repository}:{suffix}"
        self.images.append(ref)
        self.docker._call(f"tagging {source} as {ref}", self.docker.api.tag, source, repository, suffix)
        return ref

    def cleanup(self) -> list[str]:
        api = self.docker.api
        removals: list[tuple[str, Callable[[], Any]]] = [
            *(
                (f"rm {name}", lambda name=name: api.remove_container(name, v=True, force=True))
                for name in reversed(self.containers)
            ),
            *((f"network rm {name}", lambda name=name: api.remove_network(name)) for name in reversed(self.networks)),
            *((f"rmi {ref}", lambda ref=ref: api.remove_image(ref)) for ref in reversed(self.images)),
        ]
        errors: list[str] = []
        for what, remove in removals:
            try:
                remove()
            except NotFound:
                continue
            except DockerException as exc:
                errors.append(f"{what}: {exc}")
        return errors


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    """An answering Docker engine (started under <repo>/.state if needed), exported as DOCKER_HOST."""
    try:
        host = ensure_docker(STATE_DIR)
    except LocalEnvError as exc:
        pytest.fail(f"cannot find or start a Docker engine: {exc}", pytrace=False)
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = host
    try:
        yield host
    finally:
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous


@pytest.fixture(scope="session")
def docker(docker_host: str) -> DockerEngine:
    return DockerEngine(docker_host)


@pytest.fixture(scope="session")
def plugin_image(docker_host: str) -> str:
    """The reference plugin image, built (or reused) and tagged PLUGIN_TEST_IMAGE."""
    try:
        build_plugin_images([PLUGIN_TEST_IMAGE], docker_host=docker_host, state_dir=STATE_DIR)
    except LocalEnvError as exc:
        pytest.fail(f"cannot build the reference plugin image: {exc}", pytrace=False)
    return PLUGIN_TEST_IMAGE


@pytest.fixture
def docker_resources(docker: DockerEngine) -> Iterator[DockerResources]:
    resources = DockerResources(docker)
    try:
        yield resources
    finally:
        errors = resources.cleanup()
        if errors:
            pytest.fail("could not remove test resources:\n  " + "\n  ".join(errors), pytrace=False)
