"""The one Docker Engine API client of the Python side, on docker-py.

The rollback hook (inside the Pulumi program), localenv (engine ping, plugin images)
and the tests reach the engine through `engine_client`: the same host the provider
uses (`plexica:docker.host`, else `DOCKER_HOST`, else the default socket), over a
unix socket, TCP (TLS with the client certificate in `DOCKER_CERT_PATH` when
`DOCKER_TLS_VERIFY` is set, as the docker CLI does) or ssh (through the ssh client).
The API version is negotiated with the engine (Debian's 20.10 speaks 1.41).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import docker
import docker.errors

from plexica_infra.errors import PlexicaError

__all__ = [
    "DEFAULT_DOCKER_HOST",
    "ENGINE_TIMEOUT_SECONDS",
    "EngineClient",
    "EngineError",
    "docker_host",
    "engine_client",
]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
#: Inspect and force-remove answer within a second on a healthy engine; 30 s covers
#: a busy one (force-remove kills the process and waits for it to exit).
ENGINE_TIMEOUT_SECONDS = 30.0


class EngineError(PlexicaError):
    """The Docker engine could not be reached or refused a request."""


def docker_host(configured: str | None) -> str:
    """The engine address the provider uses: the stack setting, DOCKER_HOST, the default socket."""
    return configured or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def engine_client(host: str | None = None, *, timeout: float = ENGINE_TIMEOUT_SECONDS) -> docker.DockerClient:
    """A docker-py client for `host` (see `docker_host`); EngineError when no engine answers there."""
    address = docker_host(host)
    environment = {**os.environ, "DOCKER_HOST": address}
    try:
        return docker.from_env(
            version="auto",
            timeout=max(1, round(timeout)),
            environment=environment,
            use_ssh_client=address.startswith("ssh://"),
        )
    except docker.errors.DockerException as exc:
        raise EngineError(f"cannot reach the Docker engine at {address}: {exc}") from exc


_SCHEMES = ("unix", "tcp", "http", "https", "ssh")
#: What Docker accepts as a container name or id; anything else cannot exist, and is never
#: put into an API path (docker-py leaves "/" unescaped there).
_CONTAINER_REF = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def _explanation(exc: docker.errors.APIError) -> str:
    return f"HTTP {exc.status_code}: {exc.explanation or exc}"


class EngineClient:
    """The two calls the rollback hook needs, over `engine_client`."""

    def __init__(self, host: str | None = None, *, timeout: float = ENGINE_TIMEOUT_SECONDS) -> None:
        self.host = docker_host(host)
        self.timeout = timeout
        if urlparse(self.host).scheme not in _SCHEMES:
            raise EngineError(
                f"cannot reach the Docker engine at {self.host!r} from the Pulumi program: only unix://, tcp:// "
                "and ssh:// hosts are supported"
            )

    def _api(self) -> docker.APIClient:
        return engine_client(self.host, timeout=self.timeout).api

    def inspect_container(self, name_or_id: str) -> dict[str, Any] | None:
        """The container's inspect document; None when no such container exists."""
        if not _CONTAINER_REF.match(name_or_id):
            return None
        api = self._api()
        try:
            result: dict[str, Any] = api.inspect_container(name_or_id)
            return result
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(f"inspecting container {name_or_id}: {_explanation(exc)}") from exc
        except docker.errors.DockerException as exc:
            raise EngineError(f"cannot reach the Docker engine at {self.host}: {exc}") from exc
        finally:
            api.close()

    def list_containers(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every container (any state) carrying all `labels` (key=value): the orphan sweep's query."""
        api = self._api()
        try:
            result: list[dict[str, Any]] = api.containers(
                all=True, filters={"label": [f"{key}={value}" for key, value in sorted(labels.items())]}
            )
            return result
        except docker.errors.APIError as exc:
            raise EngineError(f"listing containers: {_explanation(exc)}") from exc
        except docker.errors.DockerException as exc:
            raise EngineError(f"cannot reach the Docker engine at {self.host}: {exc}") from exc
        finally:
            api.close()

    def remove_container(self, container_id: str) -> bool:
        """Force-remove a container and its anonymous volumes; False when it was already gone."""
        if not _CONTAINER_REF.match(container_id):
            return False
        api = self._api()
        try:
            api.remove_container(container_id, force=True, v=True)
            return True
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code == 409 and "already in progress" in str(exc.explanation):
                return True
            raise EngineError(f"removing container {container_id}: {_explanation(exc)}") from exc
        except docker.errors.DockerException as exc:
            raise EngineError(f"cannot reach the Docker engine at {self.host}: {exc}") from exc
        finally:
            api.close()
