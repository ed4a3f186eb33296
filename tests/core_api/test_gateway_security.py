"""Issue 12, findings 6-8: the emulator's gateway as an attacker meets it.

Real sockets: the emulator process, fake plugins, and a header-echo upstream that
reports exactly what the gateway forwarded.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests._emulator import Emulator, FakePlugin, manifest, unique_id

PLUGINS = "/api/v1/plugins"
REGISTRY = "/api/v1/service-registry"
LIMIT = 10 * 1024 * 1024


class EchoUpstream:
    """An upstream on 127.0.0.1 that answers with the headers and body size it received,
    and tries to leak internal headers back."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                upstream.seen.append({"path": self.path, "headers": headers, "size": len(body)})
                data = json.dumps({"path": self.path, "headers": headers, "size": len(body)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Plexica-Upstream", "http://10.9.9.9:3100")
                self.send_header("Connection", "keep-alive, X-Internal-Hop")
                self.send_header("X-Internal-Hop", "secret-route")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echo() -> Iterator[EchoUpstream]:
    upstream = EchoUpstream()
    yield upstream
    upstream.close()


def _register(client: httpx.Client, plugin_id: str, *endpoints: str, service: str = "plugin") -> httpx.Response:
    return client.post(REGISTRY, json={"pluginId": plugin_id, "serviceName": service, "endpoints": list(endpoints)})


def _active(emulator: Emulator, health: FakePlugin, *extra: str) -> str:
    """An ACTIVE plugin whose service `plugin` is `health` (+ `extra` endpoints)."""
    plugin_id = unique_id()
    with emulator.client() as client:
        _register(client, plugin_id, health.url, *extra).raise_for_status()
        client.post(PLUGINS, json=manifest(plugin_id)).raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/install").raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/enable").raise_for_status()
    return plugin_id


def _echo_active(emulator: Emulator, echo: EchoUpstream) -> str:
    """An ACTIVE plugin routed only to the echo upstream (it answers 200 on every path)."""
    plugin_id = unique_id()
    with emulator.client() as client:
        _register(client, plugin_id, echo.url).raise_for_status()
        client.post(PLUGINS, json=manifest(plugin_id)).raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/install").raise_for_status()
        client.post(f"{PLUGINS}/{plugin_id}/enable").raise_for_status()
    return plugin_id


# 6. Credentials and hop-by-hop headers ---------------------------------------------------------


def test_credentials_and_hop_by_hop_headers_never_reach_a_plugin(emulator: Emulator, echo: EchoUpstream) -> None:
    plugin_id = _echo_active(emulator, echo)
    response = httpx.get(
        f"{emulator.url}/api/plugins/{plugin_id}/items",
        headers={
            "Authorization": f"Bearer {emulator.token}",
            "Cookie": "session=abc123",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "Connection": "keep-alive, X-Hop-Secret",
            "X-Hop-Secret": "hop",
            "TE": "trailers",
            "X-Forwarded-For": "6.6.6.6",
            "X-Request-Id": "kept-123",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    forwarded = response.json()["headers"]
    for name in ("authorization", "cookie", "proxy-authorization", "x-hop-secret", "te"):
        assert name not in forwarded, name
    assert emulator.token not in response.text and "abc123" not in response.text
    assert forwarded["x-request-id"] == "kept-123"
    assert forwarded["x-forwarded-for"] == "127.0.0.1"
    # Nor does the plugin's own hop-by-hop or internal header reach the client.
    assert "x-internal-hop" not in response.headers
    assert response.headers.get("x-plexica-upstream") == echo.url  # the admin caller may see it


# 7. Body limit, malformed paths, existence and state, internal URLs ---------------------------


def test_bodies_over_the_limit_get_413_and_never_reach_the_plugin(emulator: Emulator, echo: EchoUpstream) -> None:
    plugin_id = _echo_active(emulator, echo)
    url = f"{emulator.url}/api/plugins/{plugin_id}/upload"
    declared = httpx.post(url, content=b"x" * (LIMIT + 1), timeout=60)
    assert declared.status_code == 413 and declared.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream itself is counted
        for _ in range(11):
            yield b"y" * (1024 * 1024)

    streamed = httpx.post(url, content=chunks(), timeout=60)
    assert streamed.status_code == 413
    assert [seen for seen in echo.seen if not seen["path"].startswith("/health/")] == []
    assert httpx.post(url, content=b"z" * 1024, timeout=30).json()["size"] == 1024


def _raw_get(emulator: Emulator, target: str) -> bytes:
    """A GET exactly as written (httpx would normalise dot segments before sending)."""
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "path", ["a%00b", "%2e%2e/%2e%2e/admin", "x/%0d%0aSet-Cookie:%20a=b", "./x", "x/../../admin", "a%7f"]
)
def test_malformed_paths_are_400_not_500(emulator: Emulator, echo: EchoUpstream, path: str) -> None:
    """The finding's request: %00 in the path used to answer 500 and reset the connection."""
    plugin_id = _echo_active(emulator, echo)
    answer = _raw_get(emulator, f"/api/plugins/{plugin_id}/{path}")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b'"invalid_path"' in answer
    assert [seen for seen in echo.seen if not seen["path"].startswith("/health/")] == []


def test_encoded_paths_are_forwarded_as_the_client_wrote_them(emulator: Emulator, echo: EchoUpstream) -> None:
    plugin_id = _echo_active(emulator, echo)
    response = httpx.get(httpx.URL(f"{emulator.url}/api/plugins/{plugin_id}/files/a%2Fb?q=1"), timeout=30)
    assert response.json()["path"] == "/files/a%2Fb?q=1"


def test_unknown_and_inactive_plugins_are_the_same_404(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id = _active(emulator, fake_plugin())
    with emulator.client() as client:
        client.post(f"{PLUGINS}/{plugin_id}/disable").raise_for_status()
    unknown_id = "p" + "0" * (len(plugin_id) - 1)
    disabled = httpx.get(f"{emulator.url}/api/plugins/{plugin_id}/health/live", timeout=30)
    unknown = httpx.get(f"{emulator.url}/api/plugins/{unknown_id}/health/live", timeout=30)
    no_route = httpx.get(f"{emulator.url}/api/nothing/{plugin_id}/health", timeout=30)
    assert disabled.status_code == unknown.status_code == no_route.status_code == 404
    assert disabled.json() == {"error": "not_found", "message": f"no route for /api/plugins/{plugin_id}/health/live"}
    assert unknown.json() == {"error": "not_found", "message": f"no route for /api/plugins/{unknown_id}/health/live"}
    assert sorted(disabled.headers.keys()) == sorted(unknown.headers.keys())
    assert "DISABLED" not in disabled.text


def test_no_internal_url_in_headers_or_errors_without_auth(
    emulator: Emulator, echo: EchoUpstream, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id = _echo_active(emulator, echo)
    anonymous = httpx.get(f"{emulator.url}/api/plugins/{plugin_id}/x", timeout=30)
    assert anonymous.status_code == 200
    assert "x-plexica-upstream" not in anonymous.headers
    assert not any(echo.url.split("//")[1] in value or "10.9.9.9" in value for value in anonymous.headers.values())
    gone = fake_plugin()
    broken = _active(emulator, gone)
    gone.close()
    failed = httpx.get(f"{emulator.url}/api/plugins/{broken}/x", timeout=30)
    assert failed.status_code == 502
    assert gone.url not in failed.text and "127.0.0.1" not in failed.text


# 8. Service endpoints and registry changes ---------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://user:pw@169.254.169.254/latest", "carries credentials"),
        ("http://169.254.169.254", "link-local, metadata"),
        ("http://[fe80::1]:3100", "link-local, metadata"),
        ("http://0.0.0.0:3100", "link-local, metadata, multicast or unspecified"),
        ("http://8.8.8.8:80", "outside the networks"),
        ("http://evil.example.com:3100", "outside the hosts"),
        ("ftp://127.0.0.1:3100", "is not an http(s) URL"),
    ],
)
def test_endpoints_outside_the_allowed_upstreams_are_refused(emulator: Emulator, endpoint: str, reason: str) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        response = _register(client, plugin_id, endpoint)
        assert response.status_code == 400, response.text
        assert reason in response.json()["message"]
        assert "pw" not in response.text.replace(plugin_id, "")
        assert client.get(f"{REGISTRY}/services", params={"pluginId": plugin_id}).json()["services"] == []


def test_allowed_upstreams(emulator: Emulator, emulator_factory: Callable[..., Emulator]) -> None:
    with emulator.client() as client:
        for endpoint in (
            "http://127.0.0.1:3100",
            "http://plexica-plugin-crm-3dd6f3a:3100",
            "http://10.1.2.3:3100",
            "http://plugin-crm.plexica.svc.cluster.local:3100",
        ):
            assert _register(client, unique_id(), endpoint).status_code == 201, endpoint
    wider = emulator_factory(extra_args=["--allow-upstream", "203.0.113.0/24", "--allow-upstream", "core.example"])
    with wider.client() as client:
        assert _register(client, unique_id(), "http://203.0.113.7:80").status_code == 201
        assert _register(client, unique_id(), "http://core.example:80").status_code == 201
        assert _register(client, unique_id(), "http://169.254.169.254").status_code == 400


def test_a_registry_change_of_an_active_plugin_is_health_checked_first(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    healthy, sick = fake_plugin("old"), fake_plugin("sick")
    sick.live.status = 500
    plugin_id = _active(emulator, healthy)
    with emulator.client() as client:
        refused = _register(client, plugin_id, sick.url)
        assert refused.status_code == 424, refused.text
        assert refused.json()["error"] == "health_check_failed"
        assert "the service registry is unchanged" in refused.json()["message"]
        [service] = client.get(f"{REGISTRY}/services", params={"pluginId": plugin_id}).json()["services"]
        assert service["endpoints"] == [healthy.url]
    assert httpx.get(f"{emulator.url}/api/plugins/{plugin_id}/hello", timeout=30).json()["plugin"] == "old"

    fresh = fake_plugin("new")
    with emulator.client() as client:
        assert _register(client, plugin_id, fresh.url).status_code == 200
    assert httpx.get(f"{emulator.url}/api/plugins/{plugin_id}/hello", timeout=30).json()["plugin"] == "new"


def test_v1_dialect_refuses_the_same_endpoints(emulator_factory: Callable[..., Emulator]) -> None:
    v1 = emulator_factory(dialect="plexica-v1")
    with v1.client() as client:
        response = client.post(
            "/api/plugin-gateway/services/register",
            headers={"X-Tenant-Slug": "acme"},
            json={
                "pluginId": "plugin-crm",
                "serviceName": "crm",
                "version": "1.0.0",
                "baseUrl": "http://user:pw@169.254.169.254/latest",
            },
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "INVALID_ENDPOINT"
