"""PluginRegistrationProvider's create, read, update, delete, check and diff over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime.rpc import UNKNOWN

from plexica_infra.providers import (
    TOKEN_CONFIG_KEY,
    TOKEN_ENV_VAR,
    CoreApiConfigError,
    CoreApiResponseError,
    PluginRegistrationProvider,
    ServiceRegistrationProvider,
)
from tests._emulator import Emulator, FakePlugin
from tests.providers._support import (
    FAST,
    core_api_plugin,
    new_plugin_id,
    plugin_props,
    register_by_hand,
    removed_state,
    service_props,
    walk,
)


@pytest.fixture
def provider() -> PluginRegistrationProvider:
    return PluginRegistrationProvider(FAST)


def _served(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> Callable[[], tuple[str, FakePlugin]]:
    def make() -> tuple[str, FakePlugin]:
        plugin_id, plugin = new_plugin_id(), fake_plugin()
        ServiceRegistrationProvider(FAST).create(service_props(emulator, plugin_id, plugin))
        return plugin_id, plugin

    return make


@pytest.fixture
def served(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> Callable[[], tuple[str, FakePlugin]]:
    """A fresh plugin id whose endpoint is registered and healthy."""
    return _served(emulator, fake_plugin)


@pytest.fixture
def guide_served(
    guide_emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> Callable[[], tuple[str, FakePlugin]]:
    """The same against the guide's Core API, whose install and update health-check the endpoints."""
    return _served(guide_emulator, fake_plugin)


def _configured(token: str) -> PluginRegistrationProvider:
    provider = PluginRegistrationProvider(FAST)
    provider.configure(ConfigureRequest(Config({TOKEN_CONFIG_KEY: token}, "plexica-infra")))
    return provider


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
    props = plugin_props(emulator, plugin_id)
    register_by_hand(emulator, plugin_id)
    walk(emulator, plugin_id, *died_after)

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


# delete -----------------------------------------------------------------------------------------


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
    props = plugin_props(emulator, plugin_id)
    register_by_hand(emulator, plugin_id)
    walk(emulator, plugin_id, *steps)
    outputs = {key: value for key, value in props.items() if key != "token"}

    _configured(emulator.token).delete(plugin_id, outputs)

    held = core_api_plugin(emulator, plugin_id)
    assert held is not None and held["state"] == removed_state(emulator)


def test_delete_tolerates_a_plugin_that_is_gone(emulator: Emulator) -> None:
    provider = _configured(emulator.token)
    outputs = {"plugin_id": new_plugin_id(), "core_api_url": emulator.url, "dialect": emulator.dialect}
    provider.delete(outputs["plugin_id"], outputs)  # never registered: 404
    provider.delete(outputs["plugin_id"], outputs)  # and again
    assert core_api_plugin(emulator, outputs["plugin_id"]) is None


def test_delete_twice_converges(
    emulator: Emulator, provider: PluginRegistrationProvider, served: Callable[[], tuple[str, FakePlugin]]
) -> None:
    plugin_id, _ = served()
    created = provider.create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    configured = _configured(emulator.token)
    configured.delete(plugin_id, created.outs)
    configured.delete(plugin_id, created.outs)
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

    read = _configured(emulator.token).read(plugin_id, created.outs)

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
    plugin_id, _ = served()
    created = provider.create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    monkeypatch.setenv(TOKEN_ENV_VAR, emulator.token)
    read = PluginRegistrationProvider(FAST).read(plugin_id, created.outs)
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
    plugin_id, _ = served()
    created = provider.create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    configured = _configured(emulator.token)
    configured.delete(plugin_id, created.outs)
    assert configured.read(plugin_id, created.outs).id == ""
    unknown = {"plugin_id": new_plugin_id(), "core_api_url": emulator.url, "dialect": emulator.dialect}
    assert configured.read(unknown["plugin_id"], unknown).id == ""


# check and diff (no HTTP) -------------------------------------------------------------------------

OLDS: dict[str, Any] = {
    "plugin_id": "crm",
    "core_api_url": "http://127.0.0.1:3000",
    "manifest": {"id": "crm", "name": "CRM", "version": "1.0.0", "addedByCoreApi": True},
    "version": "1.0.0",
    "enabled": True,
    "insecure_skip_tls_verify": False,
    "state": "ACTIVE",
    "__provider": "old-pickle",
}
NEWS: dict[str, Any] = {
    "plugin_id": "crm",
    "core_api_url": "http://127.0.0.1:3000/",
    "manifest": {"name": "CRM"},
    "version": "1.0.0",
    "enabled": True,
    "insecure_skip_tls_verify": False,
    "token": "s3cret",
    "__provider": "new-pickle",
}


@pytest.mark.parametrize(
    ("change", "changed", "replaces"),
    [
        ({}, [], []),
        ({"token": "rotated"}, [], []),
        ({"version": "1.1.0"}, ["manifest", "version"], []),
        ({"manifest": {"name": "CRM 2"}}, ["manifest"], []),
        ({"enabled": False}, ["enabled", "state"], []),
        ({"insecure_skip_tls_verify": True}, ["insecure_skip_tls_verify"], []),
        ({"plugin_id": "crm2"}, ["plugin_id", "manifest"], ["plugin_id"]),
        ({"core_api_url": "http://127.0.0.1:4000"}, ["core_api_url"], ["core_api_url"]),
        ({"manifest": UNKNOWN}, ["manifest"], []),
        ({"manifest": {"name": UNKNOWN}}, ["manifest"], []),
        ({"enabled": UNKNOWN}, ["enabled"], []),
    ],
)
def test_diff(change: dict[str, Any], changed: list[str], replaces: list[str]) -> None:
    provider = PluginRegistrationProvider(FAST)
    news = {**NEWS, **change}
    assert provider.changed_keys(OLDS, news) == changed
    result = provider.diff("crm", OLDS, news)
    assert result.changes is bool(changed)
    assert result.replaces == replaces
    assert result.delete_before_replace is ("core_api_url" in replaces)


def test_check_fills_defaults_and_reports_every_bad_input() -> None:
    provider = PluginRegistrationProvider(FAST)
    good = provider.check({}, {k: v for k, v in NEWS.items() if k not in ("enabled", "insecure_skip_tls_verify")})
    assert good.failures == []
    assert good.inputs["enabled"] is True and good.inputs["insecure_skip_tls_verify"] is False

    bad = provider.check(
        {},
        {
            **NEWS,
            "plugin_id": "Not_A_Label",
            "manifest": {"id": "other", "version": "9.9.9"},
            "core_api_url": "https://core.example.com",
            "insecure_skip_tls_verify": True,
            "enabled": "yes",
        },
    )
    reasons = {failure.property: failure.reason for failure in bad.failures if failure.property != "manifest"}
    manifest_reasons = [failure.reason for failure in bad.failures if failure.property == "manifest"]
    assert "DNS-1123 label" in reasons["plugin_id"]
    assert "not local" in reasons["core_api_url"]
    assert reasons["enabled"] == "enabled must be true or false"
    assert "manifest.name is required by the Core API" in manifest_reasons
    assert "manifest.version is '9.9.9' but version is '1.0.0'; they must agree" in manifest_reasons


def test_check_skips_values_a_preview_does_not_know() -> None:
    provider = PluginRegistrationProvider(FAST)
    result = provider.check({}, {**NEWS, "core_api_url": UNKNOWN, "manifest": {"name": UNKNOWN, "id": UNKNOWN}})
    assert result.failures == []
