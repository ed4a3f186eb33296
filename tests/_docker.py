"""Reusable helpers and fixtures for tests that need a real Docker engine.

Import the fixtures into a conftest.py::

    from _docker import docker, docker_host, docker_resources, plugin_image  # noqa: F401

- `docker_host` (session): `ensure_docker(<repo>/.state)`; exported as DOCKER_HOST for
  the session. If no engine can be found or started the test FAILS (never skips).
- `docker` (session): a `DockerCLI` bound to that host.
- `plugin_image` (session): the reference plugin image, tagged `PLUGIN_TEST_IMAGE`.
- `docker_resources` (function): a `DockerResources` that names everything
  `plexica-test-<random>-...` and removes what it created at teardown.

Every wait is bounded in count and time; traffic only goes to 127.0.0.1 and to
networks/containers the test created.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from plexica_infra.localenv import LocalEnvError, build_plugin_images, ensure_docker

__all__ = [
    "HARDENED_RUN_ARGS",
    "PLUGIN_TEST_IMAGE",
    "REPO",
    "STATE_DIR",
    "DockerCLI",
    "DockerResources",
    "docker",
    "docker_host",
    "docker_resources",
    "free_port",
    "plugin_image",
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


class DockerCLI:
    """The machine's `docker` CLI bound to one engine."""

    def __init__(self, host: str) -> None:
        cli = shutil.which("docker")
        if cli is None:
            pytest.fail("the docker CLI is not on PATH", pytrace=False)
        self.host = host
        self.cli = cli
        self.env = {**os.environ, "DOCKER_HOST": host}

    def run(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.cli, *args], capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}",
                pytrace=False,
            )
        return proc

    def inspect(self, *names: str, kind: str = "container") -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(self.run(kind, "inspect", *names).stdout)
        return data

    def published_port(self, container: str, port: int = PLUGIN_PORT) -> int:
        """Host port that 127.0.0.1 publishes for `port`/tcp of `container`."""
        for line in self.run("port", container, f"{port}/tcp").stdout.splitlines():
            host, _, host_port = line.strip().rpartition(":")
            if host == "127.0.0.1":
                return int(host_port)
        pytest.fail(f"{container} publishes no 127.0.0.1 port for {port}/tcp", pytrace=False)

    def logs(self, container: str) -> str:
        proc = self.run("logs", container, check=False)
        return proc.stdout + proc.stderr

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


class DockerResources:
    """Creates uniquely named networks/containers and removes them at teardown."""

    def __init__(self, docker: DockerCLI) -> None:
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
        self.docker.run("network", "create", "--label", "io.plexica.test=1", name)
        return name

    def container(
        self,
        suffix: str,
        image: str,
        *run_args: str,
        env: dict[str, str] | None = None,
        command: Sequence[str] = (),
    ) -> str:
        """`docker run -d` a container named `<prefix>-<suffix>`; returns its name."""
        name = self.name(suffix)
        self.containers.append(name)
        env_args = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
        self.docker.run(
            "run", "-d", "--name", name, "--label", "io.plexica.test=1", *env_args, *run_args, image, *command
        )
        return name

    def tag(self, source: str, suffix: str) -> str:
        ref = f"{self.prefix}/image:{suffix}"
        self.images.append(ref)
        self.docker.run("tag", source, ref)
        return ref

    def cleanup(self) -> list[str]:
        errors: list[str] = []
        for name in reversed(self.containers):
            proc = self.docker.run("rm", "-f", "-v", name, check=False, timeout=60)
            if proc.returncode != 0 and "No such container" not in proc.stderr:
                errors.append(f"rm {name}: {proc.stderr.strip()}")
        for name in reversed(self.networks):
            proc = self.docker.run("network", "rm", name, check=False, timeout=60)
            if proc.returncode != 0 and "not found" not in proc.stderr:
                errors.append(f"network rm {name}: {proc.stderr.strip()}")
        for ref in reversed(self.images):
            proc = self.docker.run("rmi", ref, check=False, timeout=60)
            if proc.returncode != 0 and "No such image" not in proc.stderr:
                errors.append(f"rmi {ref}: {proc.stderr.strip()}")
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
def docker(docker_host: str) -> DockerCLI:
    return DockerCLI(docker_host)


@pytest.fixture(scope="session")
def plugin_image(docker_host: str) -> str:
    """The reference plugin image, built (or reused) and tagged PLUGIN_TEST_IMAGE."""
    try:
        build_plugin_images([PLUGIN_TEST_IMAGE], docker_host=docker_host, state_dir=STATE_DIR)
    except LocalEnvError as exc:
        pytest.fail(f"cannot build the reference plugin image: {exc}", pytrace=False)
    return PLUGIN_TEST_IMAGE


@pytest.fixture
def docker_resources(docker: DockerCLI) -> Iterator[DockerResources]:
    resources = DockerResources(docker)
    try:
        yield resources
    finally:
        errors = resources.cleanup()
        if errors:
            pytest.fail("could not remove test resources:\n  " + "\n  ".join(errors), pytrace=False)
