"""Fixtures for the local-environment tests (real dockerd, real plugin binary)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:  # tests/_docker.py is shared with the e2e tests
    sys.path.insert(0, _TESTS)

from _docker import docker, docker_host, docker_resources, plugin_image  # noqa: E402

from ._plugin_proc import plugin_binary, start_plugin  # noqa: E402

__all__ = ["docker", "docker_host", "docker_resources", "plugin_binary", "plugin_image", "start_plugin"]
