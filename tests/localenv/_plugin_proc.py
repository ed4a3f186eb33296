"""Run the reference plugin binary directly on 127.0.0.1 (helpers for the localenv tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.localenv import LocalEnvError, build_plugin_binary
from tests._docker import STATE_DIR, free_port, wait_http

__all__ = ["PluginProcess", "StartPlugin", "plugin_binary", "start_plugin"]


@pytest.fixture(scope="session")
def plugin_binary() -> Path:
    """The static reference plugin binary (cached by source hash under .state/build)."""
    try:
        binary, _ = build_plugin_binary(STATE_DIR)
    except LocalEnvError as exc:
        pytest.fail(f"cannot build the reference plugin: {exc}", pytrace=False)
    return binary


@dataclass
class PluginProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    returncode: int | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait(timeout=10)
        return self.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log_text().splitlines():
            if raw.strip():
                lines.append(json.loads(raw))  # every line must be a JSON object
        return lines


StartPlugin = Callable[..., PluginProcess]


@pytest.fixture
def start_plugin(plugin_binary: Path, tmp_path: Path) -> Iterator[StartPlugin]:
    """Start the plugin binary on 127.0.0.1:<free port>; stopped at teardown."""
    started: list[PluginProcess] = []

    def start(env: dict[str, str] | None = None, *, wait: bool = True) -> PluginProcess:
        port = free_port()
        log_path = tmp_path / f"plugin-{port}.log"
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            **(env or {}),
        }
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(plugin_binary)], stdout=log, stderr=subprocess.STDOUT, env=full_env, stdin=subprocess.DEVNULL
            )
        plugin = PluginProcess(proc=proc, port=port, log_path=log_path)
        started.append(plugin)
        if wait:
            deadline = time.monotonic() + 15
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    wait_http(plugin.url + "/health/live", status=None, timeout=0.5)
                    break
                except pytest.fail.Exception:
                    continue
            if proc.poll() is not None:
                pytest.fail(f"plugin exited with {proc.returncode}: {plugin.log_text()[-1000:]}", pytrace=False)
        return plugin

    yield start
    for plugin in started:
        plugin.stop(signal.SIGKILL, timeout=10)
