"""Fault injection: failed, delayed, dropped and lost-answer requests."""

from __future__ import annotations

import time

import httpx
import pytest

from tests._emulator import Emulator, manifest, unique_id

PLUGINS = "/api/v1/plugins"


def test_fail_next_answers_json_errors_then_recovers(clean_faults: Emulator) -> None:
    plan = clean_faults.set_faults(fail_next=2, status=502)
    assert plan["fail_next"] == 2 and plan["status"] == 502
    with clean_faults.client() as client:
        statuses = [client.get(PLUGINS).status_code for _ in range(3)]
        failed_body = None
        clean_faults.set_faults(fail_next=1, status=429)
        failed = client.get(PLUGINS)
        failed_body = failed.json()
        left = client.get("/_emulator/faults").json()
    assert statuses == [502, 502, 200]
    assert failed.status_code == 429
    assert failed_body["error"] == "injected_fault" and "429" in failed_body["message"]
    assert left["fail_next"] == 0


def test_faults_can_target_a_path_prefix(clean_faults: Emulator) -> None:
    plugin_id = unique_id()
    clean_faults.set_faults(fail_next=5, path_prefix=f"{PLUGINS}/{plugin_id}/install")
    with clean_faults.client() as client:
        client.post(PLUGINS, json=manifest(plugin_id))
        assert client.get(f"{PLUGINS}/{plugin_id}").status_code == 200
        assert client.post(f"{PLUGINS}/{plugin_id}/install").status_code == 503
        assert client.get("/_emulator/faults").json()["fail_next"] == 4


def test_latency_delays_every_request(clean_faults: Emulator) -> None:
    clean_faults.set_faults(latency_ms=300)
    with clean_faults.client() as client:
        started = time.monotonic()
        assert client.get(PLUGINS).status_code == 200
        slow = time.monotonic() - started
        clean_faults.clear_faults()
        started = time.monotonic()
        client.get(PLUGINS)
        fast = time.monotonic() - started
    assert slow >= 0.3
    assert fast < slow


def test_drop_next_closes_the_connection_without_an_answer(clean_faults: Emulator) -> None:
    clean_faults.set_faults(drop_next=1)
    with clean_faults.client() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get(PLUGINS)
        assert client.get(PLUGINS).status_code == 200
    assert "ASGI callable returned without" not in clean_faults.log_text()


def test_drop_response_next_applies_the_change_but_loses_the_answer(clean_faults: Emulator) -> None:
    plugin_id = unique_id()
    clean_faults.set_faults(drop_response_next=1)
    with clean_faults.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(PLUGINS, json=manifest(plugin_id))
        registered = client.get(f"{PLUGINS}/{plugin_id}")
    assert registered.json()["state"] == "REGISTERED"


def test_emulator_routes_are_never_faulted(clean_faults: Emulator) -> None:
    clean_faults.set_faults(fail_next=100, drop_next=100)
    assert httpx.get(f"{clean_faults.url}/_emulator/health").status_code == 200
    clean_faults.clear_faults()
    with clean_faults.client() as client:
        assert client.get("/_emulator/faults").json()["fail_next"] == 0


def test_an_invalid_fault_plan_is_400(clean_faults: Emulator) -> None:
    with clean_faults.client() as client:
        response = client.post("/_emulator/faults", json={"fail_next": -1, "explode": True})
    assert response.status_code == 400
    fields = {detail["field"] for detail in response.json()["details"]}
    assert fields == {"fail_next", "explode"}
