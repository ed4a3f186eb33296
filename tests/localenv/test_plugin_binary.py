"""The reference plugin binary, run directly on 127.0.0.1 (no container)."""

from __future__ import annotations

import http.server
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests._docker import free_port

from ._plugin_proc import StartPlugin

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\+Inf|-Inf|NaN))$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=5.0, trust_env=False)


def assert_timestamp(value: object) -> None:
    assert isinstance(value, str) and ISO_MS.match(value), value
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def healthcheck(binary: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "healthcheck", url], capture_output=True, text=True, timeout=20, check=False)


@pytest.fixture
def slow_dependency() -> Iterator[str]:
    """A local HTTP server whose /slow answers 200 after 1.5 s."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(1.5)
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
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_liveness_format(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0"})
    resp = get(plugin.url + "/health/live")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"status", "timestamp"}
    assert body["status"] == "ok"
    assert_timestamp(body["timestamp"])


def test_readiness_checks_tmp_and_dependencies(start_plugin: StartPlugin) -> None:
    crm = start_plugin({"PLUGIN_ID": "crm"})
    analytics = start_plugin({"PLUGIN_ID": "analytics", "READY_DEPENDENCIES": f"crm={crm.url}/health/live"})
    resp = get(analytics.url + "/health/ready")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"crm": "ok", "tmp": "ok"}
    assert_timestamp(body["timestamp"])


def test_readiness_503_when_a_dependency_is_down(start_plugin: StartPlugin) -> None:
    crm = start_plugin({"PLUGIN_ID": "crm"})
    closed = free_port()
    analytics = start_plugin(
        {
            "PLUGIN_ID": "analytics",
            "READY_DEPENDENCIES": f"http://127.0.0.1:{closed}/health/live,"
            f"crm={crm.url}/health/live,notfound={crm.url}/no-such-route",
        }
    )
    resp = get(analytics.url + "/health/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "not_ready"
    assert body["checks"] == {"127.0.0.1": "error", "crm": "ok", "notfound": "error", "tmp": "ok"}
    # liveness never looks at dependencies
    assert get(analytics.url + "/health/live").status_code == 200

    # the dependency going away flips readiness of a previously ready plugin
    ready = start_plugin({"READY_DEPENDENCIES": f"crm={crm.url}/health/live"})
    assert get(ready.url + "/health/ready").status_code == 200
    assert crm.stop() == 0
    resp = get(ready.url + "/health/ready")
    assert resp.status_code == 503 and resp.json()["checks"]["crm"] == "error"


def test_readiness_503_when_tmp_is_not_writable(start_plugin: StartPlugin, tmp_path: Path) -> None:
    plugin = start_plugin({"TMPDIR": str(tmp_path / "does-not-exist")})
    resp = get(plugin.url + "/health/ready")
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"tmp": "error"}


def test_full_health_format(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0"})
    time.sleep(0.2)
    resp = get(plugin.url + "/health")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"status", "timestamp", "version", "uptime", "checks"}
    assert body["status"] == "healthy"
    assert body["version"] == "1.2.0"
    assert isinstance(body["uptime"], float | int) and body["uptime"] > 0
    assert body["checks"] == {"tmp": "ok"}
    assert_timestamp(body["timestamp"])

    down = start_plugin({"READY_DEPENDENCIES": f"http://127.0.0.1:{free_port()}/"})
    resp = get(down.url + "/health")
    assert resp.status_code == 503 and resp.json()["status"] == "unhealthy"


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


def test_simulate_unhealthy(start_plugin: StartPlugin, plugin_binary: Path) -> None:
    plugin = start_plugin({"PLEXICA_SIMULATE": "unhealthy"})
    live = get(plugin.url + "/health/live")
    assert live.status_code == 503 and live.json()["status"] == "error"
    ready = get(plugin.url + "/health/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert get(plugin.url + "/health").status_code == 503
    assert get(plugin.url + "/items").status_code == 200  # only health is faulted
    assert healthcheck(plugin_binary, plugin.url + "/health/live").returncode == 1


def test_simulate_crash_exits_1(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLEXICA_SIMULATE": "crash"}, wait=False)
    assert plugin.proc.wait(timeout=15) == 1
    assert any("simulated crash" in line["message"] for line in plugin.log_lines())


def test_invalid_simulate_value_is_refused(start_plugin: StartPlugin) -> None:
    plugin = start_plugin({"PLEXICA_SIMULATE": "sometimes"}, wait=False)
    assert plugin.proc.wait(timeout=15) == 2


def test_healthcheck_subcommand_exit_codes(start_plugin: StartPlugin, plugin_binary: Path) -> None:
    plugin = start_plugin({"READY_DEPENDENCIES": f"http://127.0.0.1:{free_port()}/"})
    ok = healthcheck(plugin_binary, plugin.url + "/health/live")
    assert ok.returncode == 0, ok.stderr
    assert healthcheck(plugin_binary, plugin.url + "/health/ready").returncode == 1  # 503
    assert healthcheck(plugin_binary, plugin.url + "/no-such-route").returncode == 1  # 404
    assert healthcheck(plugin_binary, f"http://127.0.0.1:{free_port()}/health/live").returncode == 1  # refused
    usage = subprocess.run([str(plugin_binary), "healthcheck", "a", "b"], capture_output=True, timeout=10)
    assert usage.returncode == 2


def test_minimal_shell_runs_shell_form_health_checks(start_plugin: StartPlugin, plugin_binary: Path) -> None:
    """Docker runs `--health-cmd STRING` as `/bin/sh -c STRING`; the image links /bin/sh to the binary."""
    plugin = start_plugin()
    sh = plugin_binary.parent / "sh-link-test" / "sh"
    sh.parent.mkdir(exist_ok=True)
    if not sh.exists():
        sh.symlink_to(plugin_binary)

    def run(script: str) -> int:
        return subprocess.run([str(sh), "-c", script], capture_output=True, timeout=20).returncode

    assert run(f"{plugin_binary} healthcheck {plugin.url}/health/live") == 0
    assert run(f"{plugin_binary} healthcheck {plugin.url}/nope || exit 1") == 1
    assert run("exit 3") == 3
    assert run("echo $HOME | cat") == 2  # unsupported syntax is refused, not misread


def test_sigterm_finishes_in_flight_requests(start_plugin: StartPlugin, slow_dependency: str) -> None:
    plugin = start_plugin({"READY_DEPENDENCIES": f"slow={slow_dependency}/slow", "READY_TIMEOUT_MS": "5000"})
    result: dict[str, httpx.Response] = {}

    def request() -> None:
        result["resp"] = get(plugin.url + "/health/ready")

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(0.5)  # the request is now waiting on the 1.5 s dependency
    started = time.monotonic()
    plugin.proc.send_signal(signal.SIGTERM)
    thread.join(timeout=10)
    assert plugin.proc.wait(timeout=10) == 0
    # The in-flight request completed: its 1.5 s dependency check answered ok; readiness
    # itself reports not ready because the server is draining.
    resp = result["resp"]
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"slow": "ok", "tmp": "ok", "server": "error"}
    assert 0.5 < time.monotonic() - started < 5
    # new connections are refused once shutdown began
    with pytest.raises(httpx.ConnectError):
        get(plugin.url + "/health/live")
