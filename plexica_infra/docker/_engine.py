"""The two Docker Engine API calls the rollback hook needs, over the standard library.

The hook runs inside the Pulumi program, not inside the provider, so it reaches the
engine itself: the same host the provider uses (`plexica:docker.host`, else
`DOCKER_HOST`, else the default socket), over a unix socket or TCP (HTTPS with the
client certificate in `DOCKER_CERT_PATH` when `DOCKER_TLS_VERIFY` is set, as the
docker CLI does). Requests use the engine's default API version.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from plexica_infra.errors import PlexicaError

__all__ = ["DEFAULT_DOCKER_HOST", "ENGINE_TIMEOUT_SECONDS", "EngineClient", "EngineError", "docker_host"]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
#: Inspect and force-remove answer within a second on a healthy engine; 30 s covers
#: a busy one (force-remove kills the process and waits for it to exit).
ENGINE_TIMEOUT_SECONDS = 30.0


class EngineError(PlexicaError):
    """The Docker engine could not be reached or refused a request."""


def docker_host(configured: str | None) -> str:
    """The engine address the provider uses: the stack setting, DOCKER_HOST, the default socket."""
    return configured or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _tls_context() -> ssl.SSLContext:
    cert_dir = Path(os.environ.get("DOCKER_CERT_PATH") or Path.home() / ".docker")
    context = ssl.create_default_context(cafile=str(cert_dir / "ca.pem"))
    context.load_cert_chain(str(cert_dir / "cert.pem"), str(cert_dir / "key.pem"))
    return context


class EngineClient:
    def __init__(self, host: str | None = None, *, timeout: float = ENGINE_TIMEOUT_SECONDS) -> None:
        self.host = docker_host(host)
        self.timeout = timeout
        parsed = urlparse(self.host)
        if parsed.scheme not in ("unix", "tcp", "http", "https"):
            raise EngineError(
                f"cannot reach the Docker engine at {self.host!r} from the Pulumi program: only unix:// "
                "and tcp:// hosts are supported"
            )
        self._parsed = parsed

    def _connection(self) -> http.client.HTTPConnection:
        parsed = self._parsed
        if parsed.scheme == "unix":
            return _UnixConnection(parsed.path, self.timeout)
        host = parsed.hostname or "localhost"
        tls = parsed.scheme == "https" or (parsed.scheme == "tcp" and bool(os.environ.get("DOCKER_TLS_VERIFY")))
        if tls:
            return http.client.HTTPSConnection(host, parsed.port or 2376, timeout=self.timeout, context=_tls_context())
        return http.client.HTTPConnection(host, parsed.port or 2375, timeout=self.timeout)

    def _request(self, method: str, path: str) -> tuple[int, bytes]:
        connection = self._connection()
        try:
            connection.request(method, path, headers={"Host": "docker"})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            raise EngineError(f"cannot reach the Docker engine at {self.host}: {exc}") from exc
        finally:
            connection.close()

    @staticmethod
    def _message(body: bytes) -> str:
        try:
            return str(json.loads(body).get("message", ""))
        except (ValueError, AttributeError):
            return body.decode(errors="replace")[:200]

    def inspect_container(self, name_or_id: str) -> dict[str, Any] | None:
        """`GET /containers/{id}/json`; None when no such container exists."""
        status, body = self._request("GET", f"/containers/{quote(name_or_id, safe='')}/json")
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"inspecting container {name_or_id}: HTTP {status}: {self._message(body)}")
        result: dict[str, Any] = json.loads(body)
        return result

    def list_containers(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """`GET /containers/json?all=1` filtered on every `labels` key=value (any state)."""
        filters = json.dumps({"label": [f"{key}={value}" for key, value in sorted(labels.items())]})
        status, body = self._request("GET", f"/containers/json?all=1&filters={quote(filters, safe='')}")
        if status != 200:
            raise EngineError(f"listing containers: HTTP {status}: {self._message(body)}")
        result: list[dict[str, Any]] = json.loads(body)
        return result

    def remove_container(self, container_id: str) -> bool:
        """Force-remove a container and its anonymous volumes; False when it was already gone."""
        status, body = self._request("DELETE", f"/containers/{quote(container_id, safe='')}?force=1&v=1")
        if status == 404:
            return False
        if status == 409 and "already in progress" in self._message(body):
            return True
        if status not in (200, 204):
            raise EngineError(f"removing container {container_id}: HTTP {status}: {self._message(body)}")
        return True
