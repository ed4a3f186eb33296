"""PluginRegistrationProvider's check and diff (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN

from plexica_infra.providers import PluginRegistrationProvider
from tests.providers._support import FAST

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
