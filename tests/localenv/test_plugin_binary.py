"""The reference plugin binary, run directly on 127.0.0.1 (no container): its health
endpoints, the `healthcheck` subcommand, its minimal shell and the simulated faults.
Metrics, API routes, logs and shutdown: `test_plugin_binary_http.py`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests._docker import free_port

from ._plugin_http import assert_timestamp, get, healthcheck
from ._plugin_proc import StartPlugin


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
