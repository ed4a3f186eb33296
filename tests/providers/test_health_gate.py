"""HealthGateProvider against fake plugin instances on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from plexica_infra.providers import (
    HealthGateError,
    HealthGateInputs,
    HealthGateProvider,
    LatencyBudgetError,
    percentile,
)
from tests._emulator import FakePlugin

# Latency budgets far above what loopback needs, for the tests that are not about latency:
# the machine may be busy with someone else's build.
RELAXED = {"live_p95_budget_ms": 2000.0, "ready_p95_budget_ms": 2000.0}


def _props(*plugins: FakePlugin, **overrides: Any) -> dict[str, Any]:
    return {
        "plugin_id": "crm",
        "base_urls": [plugin.url for plugin in plugins],
        "start_period_seconds": 0.0,
        "deadline_seconds": 20.0,
        "probe_interval_seconds": 0.2,
        **RELAXED,
        **overrides,
    }


def test_passes_when_every_instance_is_healthy_and_records_latency(fake_plugin: Callable[..., FakePlugin]) -> None:
    one, two = fake_plugin(), fake_plugin()
    result = HealthGateProvider().create(_props(one, two, latency_samples=5))

    outs = result.outs
    assert outs is not None
    assert result.id.startswith("crm-health-gate-")
    assert [item["base_url"] for item in outs["instances"]] == [one.url, two.url]
    for key in ("live_p50_ms", "live_p95_ms", "ready_p50_ms", "ready_p95_ms"):
        assert outs[key] == max(item[key] for item in outs["instances"])
        assert 0 < outs[key] < RELAXED["live_p95_budget_ms"]
    assert outs["live_p50_ms"] <= outs["live_p95_ms"]
    for plugin in (one, two):
        assert plugin.live.calls == 1 + 5, "one probe until 200, then the samples"
        assert plugin.ready.calls == 1 + 5
    assert outs["deadline_seconds"] == 20.0 and outs["failure_threshold"] == 3, "inputs are echoed with defaults"
    assert outs["checked_at"].endswith("Z")


def test_waits_through_failures_in_the_start_period(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin.ready.fail_first = 4  # more than the threshold, but all inside the start period
    result = HealthGateProvider().create(_props(plugin, start_period_seconds=15.0, failure_threshold=2))
    assert result.outs is not None and result.outs["instances"][0]["ready_p95_ms"] > 0
    assert plugin.ready.calls >= 5


def test_fails_after_threshold_consecutive_failures_with_the_last_responses(
    fake_plugin: Callable[..., FakePlugin],
) -> None:
    healthy, broken = fake_plugin(), fake_plugin()
    broken.ready.status = 503
    started = time.monotonic()
    with pytest.raises(HealthGateError) as failure:
        HealthGateProvider().create(_props(healthy, broken, failure_threshold=3))
    elapsed = time.monotonic() - started

    error = failure.value
    assert not isinstance(error, LatencyBudgetError)
    message = str(error)
    assert message.startswith(f"crm: health gate: {broken.url} readiness failed 3 consecutive times after the 0 s")
    assert f"GET {broken.url}/health/ready -> 503 " in message and '"not_ready"' in message
    assert [response["status"] for response in error.last_responses] == [503, 503, 503]
    assert broken.ready.calls == 3
    assert elapsed < 10, "three failures with a 0.2 s interval cap do not take long"


def test_an_instance_that_refuses_connections_fails_with_the_error(fake_plugin: Callable[..., FakePlugin]) -> None:
    gone = fake_plugin()
    gone.close()
    with pytest.raises(HealthGateError, match=r"liveness failed 2 consecutive times") as failure:
        HealthGateProvider().create(_props(gone, failure_threshold=2))
    assert all(r["error"].startswith("ConnectError") for r in failure.value.last_responses)


def test_fails_at_the_deadline_while_still_in_the_start_period(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin.live.status = 503
    started = time.monotonic()
    with pytest.raises(HealthGateError, match=r"liveness did not pass within the 1 s deadline; last responses: GET"):
        HealthGateProvider().create(_props(plugin, start_period_seconds=60.0, deadline_seconds=1.0))
    assert time.monotonic() - started < 5


def test_fails_when_p95_latency_is_over_budget(fake_plugin: Callable[..., FakePlugin]) -> None:
    slow = fake_plugin()
    slow.live.delay_ms = 80
    with pytest.raises(LatencyBudgetError) as failure:
        HealthGateProvider().create(_props(slow, live_p95_budget_ms=20.0, latency_samples=5))
    message = str(failure.value)
    assert f"{slow.url} liveness p95 latency" in message and "over the 20 ms budget" in message
    assert "over 5 samples" in message
    assert len(failure.value.last_responses) == 5
    assert min(r["elapsed_ms"] for r in failure.value.last_responses) >= 80


def test_the_readiness_budget_is_separate(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin.ready.delay_ms = 60
    passes = HealthGateProvider().create(_props(plugin, ready_p95_budget_ms=2000.0, latency_samples=3))
    assert passes.outs is not None and passes.outs["ready_p50_ms"] >= 60
    with pytest.raises(LatencyBudgetError, match="readiness p95"):
        HealthGateProvider().create(_props(plugin, ready_p95_budget_ms=30.0, latency_samples=3))


def test_a_probe_that_flaps_while_sampled_is_waited_for(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    plugin.live.fail_first = 0
    plugin.ready.fail_first = 0
    result_before = plugin.live.calls
    # 200 first, then a 503 in the sampling, then healthy: the gate must keep going.
    sequence = iter([200, 503] + [200] * 50)
    original = plugin.answer

    def flapping(method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        status, payload = original(method, path, body)
        if path == "/health/live":
            return next(sequence), payload
        return status, payload

    plugin.answer = flapping  # type: ignore[method-assign]
    result = HealthGateProvider().create(_props(plugin, latency_samples=3))
    assert result.outs is not None
    assert plugin.live.calls - result_before == 1 + 3 + 1 + 3


def test_custom_probe_paths(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin(live_path="/livez", ready_path="/readyz")
    HealthGateProvider().create(_props(plugin, liveness_path="/livez", readiness_path="/readyz", latency_samples=2))
    assert ("GET", "/livez") in plugin.requests and ("GET", "/readyz") in plugin.requests


def test_update_runs_the_gate_again(fake_plugin: Callable[..., FakePlugin]) -> None:
    plugin = fake_plugin()
    provider = HealthGateProvider()
    props = _props(plugin, latency_samples=2)
    created = provider.create(props)
    assert created.outs is not None
    calls = plugin.live.calls
    news = {**props, "revision": "green-2"}
    assert provider.changed_keys(created.outs, news) == ["revision"]
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs is not None and updated.outs["revision"] == "green-2"
    assert plugin.live.calls > calls


def test_diff_ignores_defaults_and_outputs() -> None:
    provider = HealthGateProvider()
    spec = HealthGateInputs(plugin_id="crm", base_urls=["http://127.0.0.1:1"])
    olds = {**spec.inputs(), "live_p95_ms": 3.2, "instances": [], "__provider": "a"}
    news = {"plugin_id": "crm", "base_urls": ["http://127.0.0.1:1/"], "__provider": "b"}
    assert provider.diff("x", olds, news).changes is False
    assert provider.changed_keys(olds, {**news, "deadline_seconds": 10}) == ["deadline_seconds"]
    assert provider.diff("x", olds, {**news, "base_urls": ["http://127.0.0.1:2"]}).replaces == []


def test_check_reports_bad_inputs() -> None:
    result = HealthGateProvider().check(
        {},
        {
            "plugin_id": "crm",
            "base_urls": ["https://10.0.0.5:3100"],
            "insecure_skip_tls_verify": True,
            "liveness_path": "live",
            "failure_threshold": 0,
            "latency_samples": 2.5,
            "deadline_seconds": -1,
        },
    )
    found = {failure.property for failure in result.failures}
    assert found == {"base_urls", "liveness_path", "failure_threshold", "latency_samples", "deadline_seconds"}
    assert result.inputs["readiness_path"] == "/health/ready", "defaults are filled in"


@pytest.mark.parametrize(
    ("values", "p50", "p95"),
    [([5.0], 5.0, 5.0), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5, 10), (list(range(1, 21)), 10, 19)],
)
def test_percentile_is_nearest_rank(values: list[float], p50: float, p95: float) -> None:
    assert percentile(values, 50) == p50
    assert percentile(values, 95) == p95
