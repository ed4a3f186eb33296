"""The reference plugin binary, run directly on 127.0.0.1 (no container): Prometheus
metrics, API routes with and without the gateway prefix, structured logs without
secrets, trace ids, and a graceful SIGTERM."""

from __future__ import annotations

import http.server
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from ._plugin_http import assert_timestamp, get
from ._plugin_proc import StartPlugin

SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\+Inf|-Inf|NaN))$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class HeldDependency:
    """A dependency whose /slow answers only once the test releases it."""

    url: str
    arrived: threading.Event
    release: threading.Event


@pytest.fixture
def held_dependency() -> Iterator[HeldDependency]:
    arrived, release = threading.Event(), threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/slow":
                arrived.set()
                release.wait(timeout=60)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HeldDependency(f"http://127.0.0.1:{server.server_address[1]}", arrived, release)
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def wait_refused(url: str, timeout: float = 30.0) -> None:
    """Poll `url` until connections are refused; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            get(url)
        except httpx.ConnectError:
            return
        time.sleep(0.05)
    pytest.fail(f"{url} still accepts connections after {timeout:.0f} s")


def parse_metrics(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    types: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], float]] = []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not Prometheus text format: {line!r}"
        labels = dict(LABEL.findall(match["labels"] or ""))
        samples.append((match["name"], labels, float(match["value"])))
    return types, samples


def test_metrics_prometheus_format(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0"})
    before = re.search(
        r'^http_requests_total\{method="GET",route="/health/live",status_code="200"\} (\d+)$',
        get(plugin.url + "/metrics").text,
        re.MULTILINE,
    )
    baseline = int(before[1]) if before else 0  # start_plugin's own readiness polling
    for _ in range(3):
        assert get(plugin.url + "/health/live").status_code == 200
    assert get(plugin.url + "/api/plugins/crm/items").status_code == 200
    assert get(plugin.url + "/nope/12345").status_code == 404

    resp = get(plugin.url + "/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    types, samples = parse_metrics(resp.text)
    assert types["http_requests_total"] == "counter"
    assert types["http_request_duration_seconds"] == "histogram"
    assert types["process_uptime_seconds"] == "gauge"

    def value(name: str, **labels: str) -> float:
        found = [v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())]
        assert len(found) == 1, (name, labels, found)
        return found[0]

    live = {"method": "GET", "route": "/health/live", "status_code": "200"}
    assert value("http_requests_total", **live) == baseline + 3
    assert value("http_requests_total", method="GET", route="/items", status_code="200") == 1
    # unknown paths share one label value: bounded cardinality
    assert value("http_requests_total", method="GET", route="unmatched", status_code="404") == 1
    buckets = [(lab["le"], v) for n, lab, v in samples if n == "http_request_duration_seconds_bucket"
               and all(lab.get(k) == w for k, w in live.items())]  # fmt: skip
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "histogram buckets must be cumulative"
    assert buckets[-1][0] == "+Inf" and buckets[-1][1] == baseline + 3
    assert value("http_request_duration_seconds_count", **live) == baseline + 3
    assert value("http_request_duration_seconds_sum", **live) > 0
    assert value("process_uptime_seconds") > 0
    assert value("plugin_info", plugin_id="crm", version="1.2.0") == 1


def test_api_route_with_and_without_gateway_prefix(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0"})
    for path in ("/items", "/api/plugins/crm/items", "/api/plugins/crm/health/live"):
        resp = get(plugin.url + path, **{"X-Tenant-ID": "acme"})
        assert resp.status_code == 200, path
    body = get(plugin.url + "/api/plugins/crm/items").json()
    assert body["pluginId"] == "crm" and body["version"] == "1.2.0"
    assert isinstance(body["items"], list) and body["items"]
    assert get(plugin.url + "/api/plugins/analytics/items").status_code == 404
    assert httpx.post(plugin.url + "/items", timeout=5, trust_env=False).status_code == 405


def test_structured_logs_and_no_secrets(start_plugin: StartPlugin) -> None:
    secrets_env = {
        "DATABASE_URL": "postgresql://plexica:db-pass-8c1f@postgres:5432/plexica",
        "REDIS_URL": "redis://:redis-pass-77aa@redis:6379",
        "CORE_API_URL": "http://core-api-secret-host:3000",
        "KAFKA_BROKERS": "kafka-secret-broker-1:29092",
        "JWT_SECRET": "jwt-secret-5b0e2d",
    }
    plugin = start_plugin({"PLUGIN_ID": "crm", "LOG_LEVEL": "debug", "NODE_ENV": "production", **secrets_env})
    get(plugin.url + "/items", **{"X-Trace-ID": "trace-42", "X-User-ID": "user-7", "X-Tenant-ID": "tenant-3"})
    get(plugin.url + "/health/ready")
    assert plugin.stop() == 0

    text = plugin.log_text()
    for value in secrets_env.values():
        assert value not in text
    for fragment in ("db-pass", "redis-pass", "jwt-secret", "secret-host", "secret-broker"):
        assert fragment not in text
    lines = plugin.log_lines()  # every line parses as JSON
    for line in lines:
        assert {"timestamp", "level", "message"} <= set(line)
        assert line["level"] in {"error", "warn", "info", "debug"}
        assert_timestamp(line["timestamp"])
    startup = next(line for line in lines if line["message"] == "plugin listening")
    assert startup["env"]["JWT_SECRET"] == "[REDACTED]"
    request = next(line for line in lines if line.get("url") == "/items" and "statusCode" in line)
    assert (request["requestId"], request["userId"], request["tenantId"]) == ("trace-42", "user-7", "tenant-3")
    assert request["statusCode"] == 200
    assert any(line["message"] == "shutdown complete" for line in lines)


def test_trace_id_is_echoed_or_generated(start_plugin: StartPlugin) -> None:
    plugin = start_plugin()
    assert get(plugin.url + "/health/live", **{"X-Trace-ID": "abc"}).headers["x-trace-id"] == "abc"
    assert len(get(plugin.url + "/health/live").headers["x-trace-id"]) == 16


def test_sigterm_finishes_in_flight_requests(start_plugin: StartPlugin, held_dependency: HeldDependency) -> None:
    dependency = held_dependency
    plugin = start_plugin({"READY_DEPENDENCIES": f"slow={dependency.url}/slow", "READY_TIMEOUT_MS": "60000"})
    result: dict[str, httpx.Response] = {}

    def request() -> None:
        result["resp"] = httpx.get(plugin.url + "/health/ready", timeout=60.0, trust_env=False)

    thread = threading.Thread(target=request)
    thread.start()
    assert dependency.arrived.wait(timeout=30), "the readiness check never reached its dependency"
    # The request is now in flight, waiting on its dependency.
    plugin.proc.send_signal(signal.SIGTERM)
    # New connections are refused once shutdown began (draining is set before the listener closes).
    wait_refused(plugin.url + "/health/live")
    dependency.release.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert plugin.proc.wait(timeout=30) == 0
    # The in-flight request completed: its dependency check answered ok; readiness itself
    # reports not ready because the server is draining.
    resp = result["resp"]
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"slow": "ok", "tmp": "ok", "server": "error"}
