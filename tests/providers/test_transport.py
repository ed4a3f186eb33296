"""The transport's retries, timeouts and error mapping against the emulator's fault injection."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plexica_infra.providers import (
    CoreApiAuthError,
    CoreApiClient,
    CoreApiConfigError,
    CoreApiConflictError,
    CoreApiError,
    CoreApiNotFoundError,
    CoreApiResponseError,
    CoreApiTimeoutError,
    CoreApiUnreachableError,
    PluginRegistrationProvider,
    ServiceRegistrationProvider,
    TransportSettings,
    is_local_host,
    tls_verify,
)
from plexica_infra.providers._transport import backoff_delay
from tests._emulator import Emulator, FakePlugin, manifest, unique_id
from tests.providers._support import FAST, core_api_plugin, plugin_props, service_props


@pytest.fixture(scope="session")
def emulator(guide_emulator: Emulator) -> Emulator:
    """The transport is dialect-free; its error texts are checked against the guide's bodies."""
    return guide_emulator


def _client(emulator: Emulator, settings: TransportSettings = FAST, token: str | None = None) -> CoreApiClient:
    return CoreApiClient(emulator.url, emulator.token if token is None else token, plugin_id="crm", settings=settings)


def _faults_left(emulator: Emulator) -> dict[str, int]:
    with emulator.client() as client:
        left: dict[str, int] = client.get("/_emulator/faults").json()
    return left


def test_a_503_burst_shorter_than_the_budget_succeeds(clean_faults: Emulator) -> None:
    clean_faults.set_faults(fail_next=FAST.max_attempts - 1)
    with _client(clean_faults) as api:
        assert api.json("GET", "/api/v1/plugins", step="list")["plugins"] is not None
    assert _faults_left(clean_faults)["fail_next"] == 0


def test_a_longer_burst_fails_quoting_the_answer_and_the_budget(clean_faults: Emulator) -> None:
    clean_faults.set_faults(fail_next=FAST.max_attempts + 5)
    with _client(clean_faults) as api, pytest.raises(CoreApiResponseError) as failure:
        api.json("GET", "/api/v1/plugins", step="list")
    error = failure.value
    assert re.fullmatch(
        r"crm: list: Core API answered 503: fault injected by the emulator: 503 for /api/v1/plugins"
        rf" \(gave up after {FAST.max_attempts} attempt\(s\) in \d+\.\d s\)",
        str(error),
    ), str(error)
    assert error.status_code == 503 and error.error == "injected_fault" and error.attempts == FAST.max_attempts
    assert _faults_left(clean_faults)["fail_next"] == 5, "exactly max_attempts tries were made"


def test_429_is_retried(clean_faults: Emulator) -> None:
    clean_faults.set_faults(fail_next=2, status=429)
    with _client(clean_faults) as api:
        api.request("GET", "/api/v1/plugins", step="list")
    assert _faults_left(clean_faults)["fail_next"] == 0


@pytest.mark.parametrize(
    ("method", "path", "kind", "status"),
    [
        ("GET", "/api/v1/plugins/nope", CoreApiNotFoundError, 404),
        ("POST", "/api/v1/plugins", CoreApiResponseError, 400),
    ],
)
def test_other_4xx_are_never_retried(
    clean_faults: Emulator, method: str, path: str, kind: type[CoreApiResponseError], status: int
) -> None:
    with _client(clean_faults) as api, pytest.raises(kind) as failure:
        api.request(method, path, step="call", json_body={"id": "x"})
    assert failure.value.status_code == status and failure.value.attempts == 1


def test_a_409_quotes_the_core_api_message_verbatim(emulator: Emulator) -> None:
    plugin_id = unique_id()
    with emulator.client() as client:
        client.post("/api/v1/plugins", json=manifest(plugin_id))
        expected = client.post(f"/api/v1/plugins/{plugin_id}/enable").json()["message"]
    api = CoreApiClient(emulator.url, emulator.token, plugin_id=plugin_id, settings=FAST)
    with api, pytest.raises(CoreApiConflictError) as failure:
        api.request("POST", f"/api/v1/plugins/{plugin_id}/enable", step="enable")
    assert str(failure.value) == f"{plugin_id}: enable: Core API answered 409: {expected}"
    assert failure.value.current_state == "REGISTERED"


def test_a_wrong_token_is_a_403_auth_error(emulator: Emulator) -> None:
    with _client(emulator, token="wrong") as api, pytest.raises(CoreApiAuthError) as failure:
        api.request("GET", "/api/v1/plugins", step="list")
    assert failure.value.status_code == 403 and failure.value.attempts == 1
    assert str(failure.value) == "crm: list: Core API answered 403: the bearer token is not valid for this Core API"


def test_a_missing_token_is_refused_before_any_call(emulator: Emulator) -> None:
    with pytest.raises(CoreApiConfigError, match="token is empty"):
        _client(emulator, token="")
    with httpx.Client() as anonymous:  # what the Core API would have answered
        assert anonymous.get(f"{emulator.url}/api/v1/plugins").status_code == 401


def test_dropped_connections_are_retried(clean_faults: Emulator) -> None:
    clean_faults.set_faults(drop_next=2)
    with _client(clean_faults) as api:
        api.request("GET", "/api/v1/plugins", step="list")
    assert _faults_left(clean_faults)["drop_next"] == 0


def test_timeouts_are_retried_then_reported(clean_faults: Emulator) -> None:
    clean_faults.set_faults(latency_ms=1500)
    settings = TransportSettings(read_timeout=0.3, max_attempts=2, initial_backoff=0.05, max_backoff=0.1)
    started = time.monotonic()
    with _client(clean_faults, settings) as api, pytest.raises(CoreApiTimeoutError) as failure:
        api.request("GET", "/api/v1/plugins", step="list")
    elapsed = time.monotonic() - started
    assert "did not answer in time (ReadTimeout) (gave up after 2 attempt(s)" in str(failure.value)
    assert failure.value.attempts == 2
    assert isinstance(failure.value.__cause__, httpx.ReadTimeout)
    assert elapsed < 2.5, "two 0.3 s timeouts and a short backoff; waiting for the answers would take 3 s"


def test_connection_refused_is_retried_within_the_budget() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = TransportSettings(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)
    api = CoreApiClient(f"http://127.0.0.1:{port}", "t", plugin_id="crm", settings=settings)
    with api, pytest.raises(CoreApiUnreachableError) as failure:
        api.request("GET", "/api/v1/plugins", step="list")
    assert not isinstance(failure.value, CoreApiTimeoutError)
    assert f"crm: list: cannot reach the Core API at http://127.0.0.1:{port}: ConnectError" in str(failure.value)
    assert failure.value.attempts == 3


def test_total_time_bounds_the_retries(clean_faults: Emulator) -> None:
    clean_faults.set_faults(fail_next=1000, latency_ms=200)
    settings = TransportSettings(max_attempts=50, max_elapsed=0.8, initial_backoff=0.05, max_backoff=0.1)
    started = time.monotonic()
    with _client(clean_faults, settings) as api, pytest.raises(CoreApiResponseError) as failure:
        api.request("GET", "/api/v1/plugins", step="list")
    assert time.monotonic() - started < 3.0, "bounded by max_elapsed (0.8 s) plus the last try"
    assert 1 < failure.value.attempts < 50


def test_a_lost_answer_to_register_converges(clean_faults: Emulator, fake_plugin: Callable[..., FakePlugin]) -> None:
    """The register took effect but its answer was lost: the retry meets 409 and carries on."""
    plugin_id, plugin = unique_id(), fake_plugin()
    ServiceRegistrationProvider(FAST).create(service_props(clean_faults, plugin_id, plugin))
    clean_faults.set_faults(drop_response_next=2, path_prefix="/api/v1/plugins")
    result = PluginRegistrationProvider(FAST).create(plugin_props(clean_faults, plugin_id))
    assert result.outs is not None and result.outs["state"] == "ACTIVE"
    assert _faults_left(clean_faults)["drop_response_next"] == 0


def test_a_burst_longer_than_the_budget_fails_then_a_second_run_converges(
    clean_faults: Emulator, fake_plugin: Callable[..., FakePlugin]
) -> None:
    plugin_id, plugin = unique_id(), fake_plugin()
    ServiceRegistrationProvider(FAST).create(service_props(clean_faults, plugin_id, plugin))
    clean_faults.set_faults(fail_next=100, path_prefix=f"/api/v1/plugins/{plugin_id}/install")
    props = plugin_props(clean_faults, plugin_id)
    with pytest.raises(CoreApiResponseError) as failure:
        PluginRegistrationProvider(FAST).create(props)
    assert str(failure.value).startswith(f"{plugin_id}: install: Core API answered 503: fault injected")
    assert "gave up after 4 attempt(s)" in str(failure.value)
    held = core_api_plugin(clean_faults, plugin_id)
    assert held is not None and held["state"] == "REGISTERED", "the failed install left a state to converge from"

    clean_faults.clear_faults()
    result = PluginRegistrationProvider(FAST).create(props)
    assert result.outs is not None and result.outs["state"] == "ACTIVE"


def test_every_provider_error_is_a_core_api_error(emulator: Emulator) -> None:
    with pytest.raises(CoreApiError) as failure:
        PluginRegistrationProvider(FAST).create({**plugin_props(emulator, "crm"), "core_api_url": "ftp://x"})
    assert isinstance(failure.value, CoreApiConfigError)
    assert "crm: inputs: core_api_url 'ftp://x' is not an http(s) URL" in str(failure.value)


# TLS rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.255.3.9", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("127.example.com", False),
        ("core-api", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_is_local_host(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_tls_verification_is_on_unless_skipped_for_a_local_url() -> None:
    assert tls_verify("https://core.example.com", False) is True
    assert tls_verify("https://127.0.0.1:3443", True) is False
    assert tls_verify("https://[::1]:3443", True) is False
    with pytest.raises(CoreApiConfigError, match=r"host 'core\.example\.com' is not local"):
        tls_verify("https://core.example.com", True)
    with pytest.raises(CoreApiConfigError, match="not local"):
        CoreApiClient("https://10.1.2.3", "t", plugin_id="crm", insecure_skip_tls_verify=True)


@given(attempt=st.integers(1, 30), retry_after=st.none() | st.floats(0, 100))
def test_backoff_doubles_jittered_and_capped(attempt: int, retry_after: float | None) -> None:
    settings = TransportSettings(initial_backoff=0.25, max_backoff=8.0)
    ceiling = min(8.0, 0.25 * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, settings, retry_after)
    assert delay <= 8.0
    assert delay >= ceiling / 2
    if retry_after is None:
        assert delay <= ceiling
    else:
        assert delay >= min(retry_after, 8.0)
