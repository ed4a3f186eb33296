"""Dialect behaviour over real HTTP: answers parsed, tokens refreshed, proxies ignored, outages survived."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from plexica_infra.providers import (
    CoreApiClient,
    CoreApiResponseError,
    CoreApiUnreachableError,
    PlexicaV1Dialect,
    PluginRecordProvider,
    PluginRegistrationProvider,
    ServiceRegistrationProvider,
    StaticCredentials,
    _auth,
    clear_token_cache,
)
from tests._emulator import REPO, TEST_CLIENT_ID, Emulator, FakePlugin
from tests.providers._support import (
    FAST,
    core_api_plugin,
    new_plugin_id,
    plugin_props,
    registry,
    removed_state,
    service_props,
)


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# the full flow, in the order the program wires it ---------------------------------------------------


def test_register_then_service_then_install_and_destroy_leaves_nothing_installed(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id = new_plugin_id()
    props = plugin_props(emulator, plugin_id, auth="client-credentials")
    record, services, plugins = (
        PluginRecordProvider(FAST),
        ServiceRegistrationProvider(FAST),
        PluginRegistrationProvider(FAST),
    )
    created_record = record.create(props)
    assert core_api_plugin(emulator, plugin_id) is not None, "the plugin exists before its service"
    created_service = services.create(service_props(emulator, plugin_id, fake_plugin(), auth="client-credentials"))
    created = plugins.create(props)
    assert created.outs is not None and created.outs["state"] == "ACTIVE"

    assert created_service.outs is not None and created_record.outs is not None
    plugins.delete(plugin_id, props)
    services.delete(created_service.id, {**created_service.outs, **props})
    record.delete(plugin_id, {**created_record.outs, **props})
    held = core_api_plugin(emulator, plugin_id)
    assert held is None or held["state"] == removed_state(emulator)
    assert registry(emulator, plugin_id) == []


# answers of an unexpected shape -------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["guide", "plexica-v1"])
def test_an_answer_of_another_shape_is_one_line_naming_plugin_step_status_and_what_is_missing(
    fake_plugin: Callable[..., FakePlugin], dialect: str
) -> None:
    """A 'Core API' answering 200 with something else entirely (the fake plugin echoes requests)."""
    impostor = fake_plugin()
    props = {
        "plugin_id": "plugin-crm",
        "service_name": "plugin-crm",
        "endpoints": ["http://127.0.0.1:3100"],
        "version": "1.0.0",
        "core_api_url": impostor.url,
        "token": "t",
        "dialect": dialect,
    }
    with pytest.raises(CoreApiResponseError) as failure:
        ServiceRegistrationProvider(FAST).create(props)
    message = str(failure.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("plugin-crm: register service: Core API answered 200 but not as the")
    missing = "pluginId is missing" if dialect == "guide" else "serviceId is missing"
    assert missing in message and f"the {dialect} dialect" in message


# tokens ---------------------------------------------------------------------------------------------


def _issued(emulator: Emulator) -> int:
    return emulator.log_text().count("issued a token to client")


def test_a_token_is_cached_and_replaced_before_it_expires(
    emulator_factory: Callable[..., Emulator],
) -> None:
    core = emulator_factory(dialect="plexica-v1", client_secret="s3cret-client", token_ttl=2)
    clear_token_cache()
    credentials = _auth.ClientCredentials(
        core.token_url, TEST_CLIENT_ID, "s3cret-client", plugin_id="plugin-x", step="test", settings=FAST
    )
    with CoreApiClient(core.url, credentials, plugin_id="plugin-x", settings=FAST) as api:
        api.request("GET", "/api/v1/plugins", step="list")
        api.request("GET", "/api/v1/plugins", step="list")
        assert _issued(core) == 1, "the second call reused the cached token"
        time.sleep(2.2)
        api.request("GET", "/api/v1/plugins", step="list")
    assert _issued(core) == 2, "an expired token was replaced before the call"


def test_a_401_expired_fetches_a_new_token_once(emulator_factory: Callable[..., Emulator]) -> None:
    core = emulator_factory(dialect="plexica-v1", client_secret="s3cret-client", token_ttl=3)
    clear_token_cache()
    credentials = _auth.ClientCredentials(
        core.token_url, TEST_CLIENT_ID, "s3cret-client", plugin_id="plugin-x", step="test", settings=FAST
    )
    credentials.bearer()
    time.sleep(3.3)
    with _auth._LOCK:  # the client believes its token is still good; the Core API says expired
        for cached in _auth._CACHE.values():
            cached.expires_at = time.monotonic() + 3600
    with CoreApiClient(
        core.url, credentials, plugin_id="plugin-x", settings=FAST, classify=PlexicaV1Dialect.classify
    ) as api:
        assert api.request("GET", "/api/v1/plugins", step="list").status_code == 200
    assert _issued(core) == 2, "one new token after the 401, not more"


# proxies ------------------------------------------------------------------------------------------


def test_proxies_from_the_environment_are_ignored(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = _closed_port_url()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(httpx.HTTPError):  # what an ordinary client does with these variables
        httpx.get(f"{emulator.url}/_emulator/health", timeout=2.0)
    with CoreApiClient(emulator.url, StaticCredentials(emulator.token), plugin_id="crm", settings=FAST) as api:
        assert api.request("GET", "/api/v1/plugins", step="list").status_code == 200


# outage -------------------------------------------------------------------------------------------


def test_an_unreachable_core_api_keeps_read_state_lets_delete_go_and_fails_create(
    emulator: Emulator, fake_plugin: Callable[..., FakePlugin], capsys: pytest.CaptureFixture[str]
) -> None:
    plugin_id = new_plugin_id()
    ServiceRegistrationProvider(FAST).create(service_props(emulator, plugin_id, fake_plugin()))
    provider = PluginRegistrationProvider(FAST)
    created = provider.create(plugin_props(emulator, plugin_id))
    assert created.outs is not None
    down = {**created.outs, "token": emulator.token, "core_api_url": _closed_port_url()}

    started = time.monotonic()
    read = provider.read(plugin_id, down)
    assert read.id == plugin_id and read.outs is not None
    assert read.outs["state"] == "ACTIVE", "the last known state is kept"
    assert time.monotonic() - started < 10
    provider.delete(plugin_id, down)
    warnings = capsys.readouterr().err
    assert f"keeping the last known state of {plugin_id} (drift unknown)" in warnings
    assert f"{plugin_id}: delete:" in warnings and "NOT uninstalled" in warnings

    with pytest.raises(CoreApiUnreachableError) as failure:
        provider.create(plugin_props(emulator, new_plugin_id()) | {"core_api_url": down["core_api_url"]})
    assert "\n" not in str(failure.value) and "cannot reach the Core API" in str(failure.value)


# the program's runtime imports ------------------------------------------------------------------------


def test_the_pulumi_program_never_loads_the_emulator_or_its_server() -> None:
    code = (
        "import sys\n"
        "import plexica_infra.config, plexica_infra.lifecycle, plexica_infra.loader, plexica_infra.providers\n"
        "import plexica_infra.docker.program, plexica_infra.k8s.program\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')"
        " or m.startswith('plexica_infra.core_api'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
