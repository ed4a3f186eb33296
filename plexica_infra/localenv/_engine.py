"""A very small Docker Engine API client over httpx (unix socket or tcp).

Only what the local environment needs: ping, version, image inspect/list,
import and tag. Unversioned API paths are used, so any engine from API 1.24
upwards (Debian's 20.10 is 1.41) answers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["DEFAULT_DOCKER_HOST", "Engine", "split_image_ref"]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def _client_for(host: str, timeout: float) -> httpx.Client:
    parts = urlsplit(host)
    if parts.scheme == "unix":
        path = parts.path or parts.netloc
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=path),
            base_url="http://docker",
            timeout=timeout,
            trust_env=False,
        )
    if parts.scheme in ("tcp", "http"):
        if os.environ.get("DOCKER_TLS_VERIFY"):
            raise LocalEnvError("DOCKER_TLS_VERIFY is set but TLS engine endpoints are not supported here")
        return httpx.Client(base_url=f"http://{parts.netloc}", timeout=timeout, trust_env=False)
    raise LocalEnvError(f"unsupported docker host {host!r} (use unix:///path or tcp://host:port)")


class Engine:
    """Docker Engine API over one connection pool; use as a context manager."""

    def __init__(self, host: str, *, timeout: float = 30.0) -> None:
        self.host = host
        self._client = _client_for(host, timeout)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            resp = self._client.get("/_ping", timeout=timeout)
        except (httpx.HTTPError, OSError):
            return False
        return resp.status_code == 200 and resp.text.strip() == "OK"

    def _check(self, resp: httpx.Response, what: str) -> httpx.Response:
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text
            raise LocalEnvError(f"docker engine at {self.host}: {what} failed: {message.strip()}")
        return resp

    def version(self) -> dict[str, Any]:
        data: dict[str, Any] = self._check(self._client.get("/version"), "version").json()
        return data

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = self._check(self._client.get("/info"), "info").json()
        return data

    def inspect_image(self, ref: str) -> dict[str, Any] | None:
        resp = self._client.get(f"/images/{quote(ref, safe='/:@')}/json")
        if resp.status_code == 404:
            return None
        data: dict[str, Any] = self._check(resp, f"inspect image {ref}").json()
        return data

    def images_with_label(self, label: str) -> list[dict[str, Any]]:
        filters = json.dumps({"label": [label]})
        resp = self._check(self._client.get("/images/json", params={"filters": filters}), "list images")
        data: list[dict[str, Any]] = resp.json()
        return data

    def import_image(self, chunks: Iterable[bytes], *, ref: str, changes: Iterable[str], message: str = "") -> str:
        """POST /images/create?fromSrc=- with a rootfs tarball; returns the image id."""
        repo, tag = split_image_ref(ref)
        params: list[tuple[str, str | int | float | bool | None]] = [("fromSrc", "-"), ("repo", repo), ("tag", tag)]
        params += [("changes", change) for change in changes]
        if message:
            params.append(("message", message))
        image_id = ""
        with self._client.stream(
            "POST",
            "/images/create",
            params=params,
            content=iter(chunks),
            headers={"Content-Type": "application/x-tar"},
            timeout=300.0,
        ) as resp:
            if resp.status_code >= 400:
                resp.read()
                self._check(resp, f"import {ref}")
            for event in _json_stream(resp.iter_lines()):
                if event.get("error") or event.get("errorDetail"):
                    raise LocalEnvError(f"docker import of {ref} failed: {event.get('error')}")
                status = str(event.get("status", ""))
                if status.startswith("sha256:"):
                    image_id = status
        if not image_id:
            inspected = self.inspect_image(ref)
            if inspected is None:
                raise LocalEnvError(f"docker import of {ref} returned no image id")
            image_id = str(inspected["Id"])
        return image_id

    def tag(self, image: str, ref: str) -> None:
        repo, tag = split_image_ref(ref)
        resp = self._client.post(f"/images/{quote(image, safe='/:@')}/tag", params={"repo": repo, "tag": tag})
        self._check(resp, f"tag {image} as {ref}")


def _json_stream(lines: Iterator[str]) -> Iterator[Mapping[str, Any]]:
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def split_image_ref(ref: str) -> tuple[str, str]:
    """'registry.plexica.io/plugins/crm:1.2.0' -> ('registry.plexica.io/plugins/crm', '1.2.0')."""
    if "@" in ref:
        raise LocalEnvError(f"image reference {ref!r} has a digest; only name[:tag] can be built locally")
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        name, tag = ref, "latest"
    if not name or not tag:
        raise LocalEnvError(f"invalid image reference {ref!r}")
    return name, tag
