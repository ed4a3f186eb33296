"""The providers' suite runs against the emulator in both dialects, over real HTTP.

`emulator` is parametrized: every test that takes it runs once against the guide's
contract and once against `plexica-v1` (the real Core API's routes, bodies, codes and
lifecycle). Tests of what only the guide's Core API does (its install/update health
check, its 409 bodies) take `guide_emulator`. Both emulators accept the static admin
token and, for TEST_CLIENT_ID, client-credentials tokens that live 30 s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests._emulator import (
    Emulator,
    FakePlugin,
    clean_faults,
    emulator_factory,
    fake_plugin,
    new_token,
    start_emulator,
)
from tests.providers._support import served_plugins

__all__ = [
    "clean_faults",
    "emulator",
    "emulator_factory",
    "fake_plugin",
    "guide_emulator",
    "guide_served",
    "served",
]

DIALECTS = ("guide", "plexica-v1")
#: Tokens expire during the suite, so refresh is exercised against both dialects.
TOKEN_TTL_SECONDS = 30
_running: dict[str, Emulator] = {}


def _emulator(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    if dialect not in _running:
        root = tmp_path_factory.mktemp(f"emulator-{dialect}")
        _running[dialect] = start_emulator(
            root / "core-api.db",
            new_token(),
            dialect=dialect,
            client_secret=f"client-secret-{uuid.uuid4().hex}",
            token_ttl=TOKEN_TTL_SECONDS,
        )
    return _running[dialect]


@pytest.fixture(scope="session", params=DIALECTS)
def emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    return _emulator(str(request.param), tmp_path_factory)


@pytest.fixture(scope="session")
def guide_emulator(tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    return _emulator("guide", tmp_path_factory)


@pytest.fixture(scope="session", autouse=True)
def _stop_emulators() -> Iterator[None]:
    yield
    for running in _running.values():
        running.stop()
    _running.clear()


@pytest.fixture
def served(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> Callable[[], tuple[str, FakePlugin]]:
    """A fresh plugin id whose endpoint is registered and healthy."""
    return served_plugins(emulator, fake_plugin)


@pytest.fixture
def guide_served(
    guide_emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> Callable[[], tuple[str, FakePlugin]]:
    """The same against the guide's Core API, whose install and update health-check the endpoints."""
    return served_plugins(guide_emulator, fake_plugin)
