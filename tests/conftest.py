"""Shared fixtures: a temporary plugins folder built from the shipped manifests."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Property tests check properties, not speed: Hypothesis' per-example deadline (200 ms)
# fails them at random on a loaded 2-core CI machine. No deadline, everything else default.
settings.register_profile("plexica", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("plexica")

REPO = Path(__file__).resolve().parent.parent
PLUGINS = REPO / "plugins"


def shipped_manifest(plugin_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLUGINS / plugin_id / "plugin.json").read_text())
    return data


WritePlugins = Callable[..., Path]


#: Fixtures that start real processes (the emulator, a plugin binary, a fake plugin server).
PROCESS_FIXTURES = frozenset({"emulator", "emulator_factory", "fake_plugin", "start_plugin", "kube_emulator"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by what they start, so `make unit` can leave the slow kinds out.

    `docker`: uses a real Docker engine; `processes`: starts the emulator or plugin
    processes. `make test` runs every test either way.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "docker_host" in fixtures:
            item.add_marker(pytest.mark.docker)
        if fixtures & PROCESS_FIXTURES:
            item.add_marker(pytest.mark.processes)


@pytest.fixture
def write_plugins(tmp_path: Path) -> WritePlugins:
    """Write {folder: manifest-dict-or-raw-text} under a fresh plugins folder and return it."""

    def write(manifests: dict[str, Any] | None = None) -> Path:
        root = tmp_path / "plugins"
        root.mkdir(exist_ok=True)
        if manifests is None:
            manifests = {pid: shipped_manifest(pid) for pid in ("crm", "analytics")}
        for folder, manifest in manifests.items():
            (root / folder).mkdir(exist_ok=True)
            text = manifest if isinstance(manifest, str) else json.dumps(copy.deepcopy(manifest), indent=2)
            (root / folder / "plugin.json").write_text(text)
        return root

    return write
