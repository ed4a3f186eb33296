"""Core API emulator process management and the localenv CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from plexica_infra.localenv import (
    TOKEN_ENV_VAR,
    LocalEnvError,
    emulator_paths,
    emulator_status,
    start_emulator,
    stop_emulator,
)
from tests._docker import REPO, free_port

TOKEN = "test-token-9f8e7d6c"

# A stand-in for the emulator: answers 401 without the env token, 200 with it.
STAND_IN = textwrap.dedent(
    """
    import http.server, os, sys
    token = os.environ["PLEXICA_CORE_API_TOKEN"]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == "Bearer " + token
            self.send_response(200 if ok else 401)
            self.end_headers()
        def log_message(self, *a):
            pass
    http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
    """
)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    yield state
    stop_emulator(state, progress=lambda _: None)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plexica_infra.localenv", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_real_emulator_start_reuse_stop(state_dir: Path) -> None:
    port = free_port()
    url = start_emulator(state_dir, port=port, token=TOKEN)
    assert url == f"http://127.0.0.1:{port}"
    assert httpx.get(url + "/api/v1/plugins", timeout=5, trust_env=False).status_code == 401
    authed = httpx.get(url + "/api/v1/plugins", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert authed.status_code == 200

    paths = emulator_paths(state_dir)
    pid = int(paths.pidfile.read_text())
    assert TOKEN.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()  # env, not argv
    assert TOKEN not in paths.record.read_text()  # only its sha256
    assert paths.log.exists() and paths.db.exists()

    messages: list[str] = []
    assert start_emulator(state_dir, port=port, token=TOKEN, progress=messages.append) == url
    assert int(paths.pidfile.read_text()) == pid and "already running" in messages[-1]
    assert emulator_status(state_dir)["pid"] == pid

    assert stop_emulator(state_dir) is True
    assert not psutil.pid_exists(pid)
    assert not paths.pidfile.exists()
    assert stop_emulator(state_dir) is False
    assert TOKEN not in paths.log.read_text()


def test_stand_in_command_and_token_change_restarts(state_dir: Path) -> None:
    port = free_port()
    command = ["{python}", "-c", STAND_IN, "{host}", "{port}"]
    url = start_emulator(state_dir, port=port, token=TOKEN, command=command)
    first = emulator_status(state_dir)["pid"]
    authed = httpx.get(url + "/api/v1/plugins", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert authed.status_code == 200  # the token arrived through the environment
    start_emulator(state_dir, port=port, token="another-token", command=command)
    second = emulator_status(state_dir)["pid"]
    assert second != first and not psutil.pid_exists(first)


def test_failing_command_reports_log_tail(state_dir: Path) -> None:
    command = ["{python}", "-c", "import sys; print('boom: cannot start'); sys.exit(3)"]
    with pytest.raises(LocalEnvError, match=r"exited with status 3[\s\S]*boom: cannot start"):
        start_emulator(state_dir, port=free_port(), token=TOKEN, command=command, timeout=10)
    assert not emulator_paths(state_dir).pidfile.exists()


def test_port_owned_by_someone_else_is_refused(state_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(LocalEnvError, match="already in use"):
            start_emulator(state_dir, port=sock.getsockname()[1], token=TOKEN, timeout=5)


def test_cli_usage_and_errors_are_one_line() -> None:
    bad = run_cli("no-such-command")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    missing = run_cli("images")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr

    digest = run_cli("images", "x/y@sha256:" + "0" * 64)
    assert digest.returncode == 1 and "Traceback" not in digest.stderr
    assert digest.stderr.strip().splitlines()[-1].startswith("python -m plexica_infra.localenv images: error:")


def test_cli_docker_up_images_status(docker_host: str) -> None:
    up = run_cli("docker-up")
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == docker_host

    ref = f"plexica-test-cli-{os.getpid()}/plugin:1"
    try:
        images = run_cli("images", ref, env={"DOCKER_HOST": docker_host})
        assert images.returncode == 0, images.stderr
        listed_ref, image_id = images.stdout.split()
        assert listed_ref == ref and image_id.startswith("sha256:")
    finally:
        subprocess.run(["docker", "-H", docker_host, "rmi", ref], capture_output=True, timeout=60, check=False)

    status = run_cli("status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["docker"]["host"] == docker_host


def test_cli_emulator_up_down(tmp_path: Path) -> None:
    state = tmp_path / "cli-state"
    port = free_port()
    env = {TOKEN_ENV_VAR: TOKEN}
    try:
        up = run_cli("--state-dir", str(state), "emulator-up", "--port", str(port), env=env)
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == f"http://127.0.0.1:{port}"
        again = run_cli("--state-dir", str(state), "emulator-up", "--port", str(port), env=env)
        assert again.returncode == 0 and "already running" in again.stderr
        status = run_cli("--state-dir", str(state), "status")
        assert f"emulator: http://127.0.0.1:{port}" in status.stdout
    finally:
        down = run_cli("--state-dir", str(state), "emulator-down")
    assert down.returncode == 0, down.stderr
    assert "not running" in run_cli("--state-dir", str(state), "status").stdout


def test_cli_generates_and_keeps_a_token(tmp_path: Path) -> None:
    state = tmp_path / "token-state"
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV_VAR}
    port = free_port()
    try:
        cmd = [sys.executable, "-m", "plexica_infra.localenv", "--state-dir", str(state), "emulator-up", "--port"]
        up = subprocess.run([*cmd, str(port)], capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
        assert up.returncode == 0, up.stderr
        token_file = emulator_paths(state).root / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        resp = httpx.get(up.stdout.strip() + "/api/v1/plugins", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
    finally:
        stop_emulator(state, progress=lambda _: None)
