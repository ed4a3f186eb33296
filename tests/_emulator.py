"""Test fixtures around the Core API emulator and a fake plugin.

Import the fixtures into a conftest (`from tests._emulator import emulator, ...`) or use
the classes directly. The emulator process (`start_emulator`, `Emulator`) and the fake
plugin (`FakePlugin`) live in the package (`plexica_infra.localenv.emulator_process`,
`plexica_infra.localenv.fake_plugin`), so the benchmarks use them without importing tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.contract import CLIENT_SECRET_ENV_VAR, TOKEN_ENV_VAR
from plexica_infra.localenv.emulator_process import (
    STARTUP_TIMEOUT_SECONDS,
    STOP_TIMEOUT_SECONDS,
    TEST_CLIENT_ID,
    TOKEN_PATH,
    Emulator,
    emulator_command,
    emulator_env,
    start_emulator,
)
from plexica_infra.localenv.fake_plugin import FakePlugin, ProbeBehaviour
from plexica_infra.localenv.toolchain import REPO

__all__ = [
    "CLIENT_SECRET_ENV_VAR",
    "REPO",
    "STARTUP_TIMEOUT_SECONDS",
    "STOP_TIMEOUT_SECONDS",
    "TEST_CLIENT_ID",
    "TOKEN_ENV_VAR",
    "TOKEN_PATH",
    "Emulator",
    "FakePlugin",
    "ProbeBehaviour",
    "clean_faults",
    "emulator",
    "emulator_command",
    "emulator_env",
    "emulator_factory",
    "fake_plugin",
    "manifest",
    "new_token",
    "running_emulator",
    "start_emulator",
    "unique_id",
]


@contextmanager
def running_emulator(root: Path) -> Iterator[Emulator]:
    """An emulator with its database under `root` and a fresh token, stopped afterwards."""
    emulator = start_emulator(root / "core-api.db", new_token())
    try:
        yield emulator
    finally:
        emulator.stop()


def new_token() -> str:
    return f"test-token-{uuid.uuid4().hex}"


def unique_id(prefix: str = "p") -> str:
    """A fresh plugin id (a DNS label), so tests sharing an emulator never collide."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def manifest(plugin_id: str, version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A small plugin manifest the Core API accepts."""
    return {"id": plugin_id, "name": f"{plugin_id} plugin", "version": version, **extra}


# Fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for a whole session; tests use `unique_id()` plugin ids and reset faults."""
    process = start_emulator(tmp_path_factory.mktemp("emulator") / "core-api.db", new_token())
    yield process
    process.stop()


@pytest.fixture
def clean_faults(emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator, with its fault plan cleared before and after the test."""
    emulator.clear_faults()
    yield emulator
    emulator.clear_faults()


@pytest.fixture
def emulator_factory(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """Start private emulators (each with its own database); all are stopped afterwards."""
    started: list[Emulator] = []

    def start(token: str | None = None, db_path: Path | None = None, **kwargs: Any) -> Emulator:
        db = db_path or tmp_path / f"core-api-{len(started)}.db"
        instance = start_emulator(db, token or new_token(), **kwargs)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def fake_plugin() -> Iterator[Callable[..., FakePlugin]]:
    """Start fake plugin instances; all are shut down afterwards."""
    started: list[FakePlugin] = []

    def start(name: str = "plugin", **kwargs: Any) -> FakePlugin:
        plugin = FakePlugin(name, **kwargs)
        started.append(plugin)
        return plugin

    yield start
    for plugin in started:
        plugin.close()
