"""Fixtures for the local-environment tests (real dockerd, real plugin binary)."""

from __future__ import annotations

from tests._docker import docker, docker_host, docker_resources, plugin_image
from tests.localenv._plugin_proc import plugin_binary, start_plugin

__all__ = ["docker", "docker_host", "docker_resources", "plugin_binary", "plugin_image", "start_plugin"]
