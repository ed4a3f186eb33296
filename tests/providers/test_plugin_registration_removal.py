"""PluginRegistrationProvider's delete, read and drift over real HTTP, in both dialects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from plexica_infra.providers import TOKEN_ENV_VAR, CoreApiConfigError, PluginRegistrationProvider
from tests._emulator import Emulator, FakePlugin
from tests.providers._support import (
    FAST,
    configured_registrations,
    core_api_plugin,
    left_by_a_previous_run,
    new_plugin_id,
    plugin_props,
    removed_state,
    walk,
)


@pytest.fixture
def provider() -> PluginRegistrationProvider:
    return PluginRegistrationProvider(FAST)


def _deployed(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> tuple[str, dict[str, Any]]:
    """A plugin created ACTIVE by the provider; returns its id and outputs."""
    plugin_id, _ = served()
    created = provider.create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    return plugin_id, created.outs


@pytest.mark.parametrize(
    "steps",
    [[], ["install"], ["install", "enable"], ["install", "enable", "disable"]],
    ids=["registered", "installed", "active", "disabled"],
)
def test_delete_ends_removed_from_any_steady_state(
    emulator: Emulator,
    provider: PluginRegistrationProvider,
    served: Callable[[], tuple[str, FakePlugin]],
    steps: list[str],
) -> None:
    plugin_id, _ = served()
    props = left_by_a_previous_run(emulator, plugin_id, *steps)
    outputs = {key: value for key, value in props.items() if key != "token"}

    configured_registrations(emulator.token).delete(plugin_id, outputs)

    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == removed_state(emulator)


def test_delete_tolerates_a_plugin_that_is_gone(emulator: Emulator) -> None:
    provider = configured_registrations(emulator.token)
    outputs = {"plugin_id": new_plugin_id(), "core_api_url": emulator.url, "dialect": emulator.dialect}
    provider.delete(outputs["plugin_id"], outputs)  # never registered: 404
    provider.delete(outputs["plugin_id"], outputs)  # and again
    assert core_api_plugin(emulator, outputs["plugin_id"]) is None


def test_delete_twice_converges(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, outputs = _deployed(emulator, provider, served)
    configured = configured_registrations(emulator.token)
    configured.delete(plugin_id, outputs)
    configured.delete(plugin_id, outputs)
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == removed_state(emulator)


# read and drift -----------------------------------------------------------------------------------


def test_a_plugin_disabled_by_hand_is_drift_that_update_repairs(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, _ = served()
    props = plugin_props(emulator, plugin_id)
    created = provider.create(props)
    assert created.outs is not None
    assert provider.changed_keys(created.outs, props) == []
    walk(emulator, plugin_id, "disable")

    read = configured_registrations(emulator.token).read(plugin_id, created.outs)

    assert read.id == plugin_id and read.outs is not None
    assert read.outs["state"] == "DISABLED"
    assert "token" not in read.outs
    diff = provider.diff(plugin_id, read.outs, props)
    assert diff.changes is True and diff.replaces == []
    assert provider.changed_keys(read.outs, props) == ["state"]

    repaired = provider.update(plugin_id, read.outs, props)
    assert repaired.outs is not None and repaired.outs["state"] == "ACTIVE"
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == "ACTIVE"


def test_read_takes_the_token_from_the_environment_too(
    emulator: Emulator,
    provider: PluginRegistrationProvider,
    served: Callable[[], tuple[str, FakePlugin]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugin_id, outputs = _deployed(emulator, provider, served)
    monkeypatch.setenv(TOKEN_ENV_VAR, emulator.token)
    read = PluginRegistrationProvider(FAST).read(plugin_id, outputs)
    assert read.outs is not None and read.outs["state"] == "ACTIVE"


def test_read_without_any_token_says_where_to_put_one(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)
    with pytest.raises(CoreApiConfigError, match=r"read: no Core API token: .*plexica:coreApiToken"):
        PluginRegistrationProvider(FAST).read(
            "crm", {"plugin_id": "crm", "core_api_url": emulator.url, "dialect": emulator.dialect}
        )


def test_read_of_an_uninstalled_or_unknown_plugin_reports_it_gone(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, outputs = _deployed(emulator, provider, served)
    configured = configured_registrations(emulator.token)
    configured.delete(plugin_id, outputs)
    assert configured.read(plugin_id, outputs).id == ""
    unknown = {"plugin_id": new_plugin_id(), "core_api_url": emulator.url, "dialect": emulator.dialect}
    assert configured.read(unknown["plugin_id"], unknown).id == ""
