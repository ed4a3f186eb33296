"""Issue 12, finding 12: the provider secret test must be able to fail.

Every provider method gets the token the way the engine can hand it over (in the
props, `read` included), and everything it returns is scanned with the shared
scanner. The same scan, run against a provider whose token exclusion is removed,
finds the leak: the check is not vacuous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from plexica_infra.providers import PluginRegistrationProvider, ServiceRegistrationProvider
from plexica_infra.providers._base import ProviderBase
from tests._emulator import Emulator, FakePlugin, unique_id
from tests._secret_scan import find_in_value
from tests.providers._support import FAST, plugin_props, service_props


def _everything_returned(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> list[Any]:
    """Outputs of create, update, read (fed the token in its props) and diff of both providers."""
    plugin_id, plugin = unique_id(), fake_plugin()
    services, plugins = ServiceRegistrationProvider(FAST), PluginRegistrationProvider(FAST)
    returned: list[Any] = []

    service_in = service_props(emulator, plugin_id, plugin)
    service = services.create(service_in)
    returned.append(service.outs)
    returned.append(services.read(service.id, {**(service.outs or {}), "token": emulator.token}).outs)

    plugin_in = plugin_props(emulator, plugin_id)
    created = plugins.create(plugin_in)
    returned.append(created.outs)
    changed = plugin_props(emulator, plugin_id, enabled=False)
    diff = plugins.diff(created.id, {**(created.outs or {}), "token": emulator.token}, changed)
    returned.append(vars(diff))
    updated = plugins.update(created.id, {**(created.outs or {}), "token": emulator.token}, changed)
    returned.append(updated.outs)
    # The engine's refresh hands `read` what it has; make sure a token in there is not echoed.
    returned.append(plugins.read(created.id, {**(updated.outs or {}), "token": emulator.token}).outs)
    plugins.delete(created.id, {**(updated.outs or {}), "token": emulator.token})
    services.delete(service.id, {**(service.outs or {}), "token": emulator.token})
    return returned


def test_no_provider_method_returns_the_token(emulator: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    returned = _everything_returned(emulator, fake_plugin)
    assert all(outputs is not None for outputs in returned)
    assert find_in_value(returned, [emulator.token]) == []


def test_the_check_fails_when_the_token_exclusion_is_removed(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deliberate leak: without "token" in PRIVATE_KEYS, the same scan finds it."""
    monkeypatch.setattr(ProviderBase, "PRIVATE_KEYS", ProviderBase.PRIVATE_KEYS - {"token"})
    monkeypatch.setattr(PluginRegistrationProvider, "PRIVATE_KEYS", ProviderBase.PRIVATE_KEYS, raising=False)
    monkeypatch.setattr(ServiceRegistrationProvider, "PRIVATE_KEYS", ProviderBase.PRIVATE_KEYS, raising=False)
    returned = _everything_returned(emulator, fake_plugin)
    assert find_in_value(returned, [emulator.token]) == ["secret #0"]
