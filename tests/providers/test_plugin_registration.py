"""PluginRegistrationProvider's create and update over real HTTP, in both dialects."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from plexica_infra.providers import CoreApiResponseError, PluginRegistrationProvider
from tests._emulator import Emulator, FakePlugin
from tests.providers._support import (
    FAST,
    core_api_plugin,
    left_by_a_previous_run,
    new_plugin_id,
    plugin_props,
    register_by_hand,
)


@pytest.fixture
def provider() -> PluginRegistrationProvider:
    return PluginRegistrationProvider(FAST)


# create -----------------------------------------------------------------------------------------


def test_create_registers_installs_and_enables(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, plugin = served()
    props = plugin_props(emulator, plugin_id, version="1.2.0")

    result = provider.create(props)

    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == "ACTIVE" and held["version"] == "1.2.0"
    assert held["manifest"] == {**props["manifest"], "id": plugin_id, "version": "1.2.0"}
    assert result.id == plugin_id
    assert result.outs is not None
    assert result.outs["state"] == "ACTIVE"
    assert result.outs["manifest"] == held["manifest"]
    assert result.outs["created_at"] == held["createdAt"]
    assert result.outs["core_api_url"] == emulator.url
    assert result.outs["dialect"] == emulator.dialect
    assert "token" not in result.outs
    if not emulator.v1:  # the real Core API's install checks no health
        assert plugin.ready.calls >= 1, "install health-checked the registered endpoint"


def test_create_with_enabled_false_ends_disabled(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, _ = served()
    result = provider.create(plugin_props(emulator, plugin_id, enabled=False))
    assert result.outs is not None and result.outs["state"] == "DISABLED"
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == "DISABLED"


@pytest.mark.parametrize(
    "died_after",
    [
        [],
        ["install"],
        ["install", "enable"],
        ["install", "enable", "disable"],
        ["install", "enable", "disable", "uninstall"],
    ],
    ids=["registered", "installed", "active", "disabled", "uninstalled"],
)
def test_create_converges_from_whatever_a_previous_run_left(
    emulator: Emulator,
    provider: PluginRegistrationProvider,
    served: Callable[[], tuple[str, FakePlugin]],
    died_after: list[str],
) -> None:
    plugin_id, _ = served()
    props = left_by_a_previous_run(emulator, plugin_id, *died_after)

    result = provider.create(props)

    assert result.outs is not None and result.outs["state"] == "ACTIVE"
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == "ACTIVE"


def test_create_swaps_in_the_wanted_version_when_an_older_one_is_registered(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, _ = served()
    register_by_hand(emulator, plugin_id, "0.9.0")
    result = provider.create(plugin_props(emulator, plugin_id, version="1.0.0"))
    assert result.outs is not None
    assert (result.outs["version"], result.outs["state"]) == ("1.0.0", "ACTIVE")


def test_a_failed_install_is_clear_and_the_next_run_converges(
    guide_emulator: Emulator,
    provider: PluginRegistrationProvider,
    guide_served: Callable[[], tuple[str, FakePlugin]],
) -> None:
    plugin_id, plugin = guide_served()
    plugin.ready.status = 503
    props = plugin_props(guide_emulator, plugin_id)

    with pytest.raises(CoreApiResponseError) as failure:
        provider.create(props)

    message = str(failure.value)
    assert message.startswith(f"{plugin_id}: install: Core API answered 424: install of {plugin_id} failed: ")
    assert f"{plugin.url}/health/ready answered 503" in message
    assert failure.value.status_code == 424 and failure.value.attempts == 1, "a 4xx is never retried"
    held = core_api_plugin(guide_emulator, plugin_id)
    assert held is not None and held["state"] == "REGISTERED"

    plugin.ready.status = 200
    result = provider.create(props)
    assert result.outs is not None and result.outs["state"] == "ACTIVE"


def test_create_without_a_registered_endpoint_says_so(
    guide_emulator: Emulator, provider: PluginRegistrationProvider
) -> None:
    plugin_id = new_plugin_id()
    with pytest.raises(CoreApiResponseError, match=r"install: Core API answered 424: .*service registry"):
        provider.create(plugin_props(guide_emulator, plugin_id))


# update -----------------------------------------------------------------------------------------


def test_update_hot_swaps_the_version_and_stays_active(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, plugin = served()
    old = plugin_props(emulator, plugin_id)
    created = provider.create(old)
    assert created.outs is not None
    probes_before = plugin.ready.calls
    new = plugin_props(emulator, plugin_id, version="1.1.0", homepage="https://plugins.example.com/x")

    updated = provider.update(plugin_id, created.outs, new)

    assert updated.outs is not None
    assert (updated.outs["version"], updated.outs["state"]) == ("1.1.0", "ACTIVE")
    assert updated.outs["manifest"]["homepage"] == "https://plugins.example.com/x"
    if not emulator.v1:  # the real Core API's update checks no health
        assert plugin.ready.calls > probes_before, "the Core API health-checked before switching"
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["version"] == "1.1.0"


@pytest.mark.parametrize(("first", "then", "state"), [(True, False, "DISABLED"), (False, True, "ACTIVE")])
def test_update_follows_enabled(
    emulator: Emulator,
    provider: PluginRegistrationProvider,
    served: Callable[[], tuple[str, FakePlugin]],
    first: bool,
    then: bool,
    state: str,
) -> None:
    plugin_id, _ = served()
    created = provider.create(plugin_props(emulator, plugin_id, enabled=first))
    assert created.outs is not None
    updated = provider.update(plugin_id, created.outs, plugin_props(emulator, plugin_id, enabled=then))
    assert updated.outs is not None and updated.outs["state"] == state
    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == state


def test_update_refused_by_the_health_check_keeps_the_old_version(
    guide_emulator: Emulator,
    provider: PluginRegistrationProvider,
    guide_served: Callable[[], tuple[str, FakePlugin]],
) -> None:
    plugin_id, plugin = guide_served()
    created = provider.create(plugin_props(guide_emulator, plugin_id))
    assert created.outs is not None
    plugin.live.status = 500
    with pytest.raises(CoreApiResponseError, match=rf"^{plugin_id}: update: Core API answered 424: update of"):
        provider.update(plugin_id, created.outs, plugin_props(guide_emulator, plugin_id, version="2.0.0"))
    held = core_api_plugin(guide_emulator, plugin_id)
    assert held is not None and (held["version"], held["state"]) == ("1.0.0", "ACTIVE")
