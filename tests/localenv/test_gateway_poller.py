"""The gateway poller (`localenv.gateway_poller`) against a real HTTP server on 127.0.0.1:
statuses, upstreams and versions of every answer, and its bounded waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from plexica_infra.localenv.gateway_poller import GatewayPoller


class _Upstream:
    """Answers GET with the current (status, version, upstream); the test switches them."""

    def __init__(self) -> None:
        self.status, self.version, self.upstream = 200, "1.0.0", "http://127.0.0.1:1"
        self.in_header = False
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps({} if upstream.in_header else {"version": upstream.version}).encode()
                self.send_response(upstream.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Plexica-Upstream", upstream.upstream)
                if upstream.in_header:
                    self.send_header("X-Plugin-Version", upstream.version)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/info"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_records_versions_upstreams_and_failures_in_order(upstream: _Upstream) -> None:
    with GatewayPoller(upstream.url, interval=0.01) as poller:
        poller.wait_for_samples(3)
        upstream.status = 503
        poller.wait_for_samples(len(poller.snapshot()) + 3)
        upstream.status, upstream.version, upstream.upstream = 200, "1.1.0", "http://127.0.0.1:2"
        first = poller.wait_for_version("1.1.0")
        upstream.in_header, upstream.version = True, "1.2.0"
        poller.wait_for_version("1.2.0")
    assert first.version == "1.1.0" and first.upstream == "http://127.0.0.1:2" and first.ok
    assert poller.versions() == ["1.0.0", "1.1.0", "1.2.0"]
    assert poller.upstream_runs() == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    assert poller.first_from("http://127.0.0.1:2") == first
    failures = poller.failures()
    assert len(failures) >= 3 and {s.status for s in failures} == {503}
    assert not poller.exhausted
    assert all(s.sent_epoch > 0 for s in poller.snapshot())


def test_waits_are_bounded(upstream: _Upstream) -> None:
    with GatewayPoller(upstream.url, interval=0.01) as poller:
        poller.wait_for_samples(1)
        seen = r"no gateway answer named version 9\.9\.9 .*seen: \['1\.0\.0'\]"
        with pytest.raises(AssertionError, match=seen):
            poller.wait_for_version("9.9.9", timeout=0.5)


def test_stops_on_its_request_bound(upstream: _Upstream) -> None:
    with (
        GatewayPoller(upstream.url, interval=0.0, max_requests=5) as poller,
        pytest.raises(AssertionError, match="got 5 answers"),
    ):
        poller.wait_for_samples(6, timeout=10)
    assert len(poller.snapshot()) == 5 and poller.exhausted
