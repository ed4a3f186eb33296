"""The deletion wait and the watch inputs, on a scripted stand-in for the API server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from plexica_infra.k8s import deletion_wait
from plexica_infra.k8s.deletion_wait import DeletionNotFinished, DeletionWaitProvider
from plexica_infra.k8s.deployment_watch import DeletionWaitInputs, RolloutGuardInputs, WatchInputsError

PROPS: dict[str, Any] = {
    "plugin_id": "crm",
    "namespace": "plexica",
    "deployment_name": "plugin-crm",
    "selector": {"app": "plexica-plugin", "plugin": "crm"},
    "deadline_seconds": 1,
    "kubeconfig": "/tmp/kubeconfig",
    "context": "",
}


class ScriptedCluster:
    """Answers like an API server where the Deployment and ReplicaSets go away after some polls."""

    def __init__(self, deployment_polls: int, replica_set_polls: int, error: Exception | None = None) -> None:
        self.deployment_polls, self.replica_set_polls, self.error = deployment_polls, replica_set_polls, error
        self.asked: list[tuple[str, Any]] = []

    def deployment_or_none(self, namespace: str, name: str) -> dict[str, Any] | None:
        if self.error is not None:
            raise self.error
        self.asked.append(("deployment", (namespace, name)))
        self.deployment_polls -= 1
        return {"metadata": {"name": name}} if self.deployment_polls >= 0 else None

    def replica_sets_matching(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        self.asked.append(("replica_sets", (namespace, dict(labels))))
        self.replica_set_polls -= 1
        return [{"metadata": {"name": "plugin-crm-5d8f"}}] if self.replica_set_polls >= 0 else []


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deletion_wait, "_POLL_SECONDS", 0.01)
    monkeypatch.setattr(deletion_wait, "EXTRA_SECONDS", 0)


def _use(monkeypatch: pytest.MonkeyPatch, cluster: ScriptedCluster) -> None:
    monkeypatch.setattr(deletion_wait, "ClusterApi", lambda kubeconfig, context: cluster)


def test_delete_returns_once_the_deployment_and_its_replica_sets_are_gone(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    cluster = ScriptedCluster(deployment_polls=2, replica_set_polls=4)
    _use(monkeypatch, cluster)
    DeletionWaitProvider().delete("plexica/plugin-crm", dict(PROPS))
    assert cluster.deployment_polls < 0 and cluster.replica_set_polls < 0
    assert ("replica_sets", ("plexica", PROPS["selector"])) in cluster.asked
    assert ("deployment", ("plexica", "plugin-crm")) in cluster.asked


def test_delete_past_the_deadline_fails_in_one_line(monkeypatch: pytest.MonkeyPatch, fast: None) -> None:
    _use(monkeypatch, ScriptedCluster(deployment_polls=10**9, replica_set_polls=10**9))
    with pytest.raises(DeletionNotFinished) as failed:
        DeletionWaitProvider().delete("plexica/plugin-crm", dict(PROPS))
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("plugin crm: Deployment plugin-crm, ReplicaSet plugin-crm-5d8f of plexica/plugin-crm")
    assert "the next `pulumi up` waits for it again" in message


def test_an_api_error_is_one_line(monkeypatch: pytest.MonkeyPatch, fast: None) -> None:
    _use(monkeypatch, ScriptedCluster(0, 0, error=ConnectionRefusedError("connection refused")))
    with pytest.raises(DeletionNotFinished, match=r"^plugin crm: could not check that Deployment plexica/plugin-crm"):
        DeletionWaitProvider().delete("plexica/plugin-crm", dict(PROPS))


def test_create_and_update_keep_the_inputs_the_delete_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cluster(*_args: object) -> None:
        raise AssertionError("create and update must not talk to the cluster")

    monkeypatch.setattr(deletion_wait, "ClusterApi", no_cluster)
    provider = DeletionWaitProvider()
    created = provider.create({**PROPS, "__provider": "serialized"})
    assert created.id == "plexica/plugin-crm" and created.outs == PROPS
    news = {**PROPS, "deadline_seconds": 600}
    assert provider.update("plexica/plugin-crm", PROPS, news).outs == news


def test_diff_replaces_only_for_another_deployment() -> None:
    provider = DeletionWaitProvider()
    same = provider.diff("x", PROPS, {**PROPS, "__provider": "other"})
    assert not same.changes
    longer = provider.diff("x", PROPS, {**PROPS, "deadline_seconds": 600})
    assert longer.changes and not longer.replaces
    moved = provider.diff("x", PROPS, {**PROPS, "namespace": "other"})
    assert moved.changes and moved.replaces == ["namespace"]


def test_bad_inputs_are_one_line_naming_the_input() -> None:
    with pytest.raises(WatchInputsError) as failed:
        DeletionWaitInputs.from_props({**PROPS, "selector": {}})
    assert str(failed.value).startswith("deletion wait of plugin crm: input 'selector':")
    with pytest.raises(WatchInputsError, match=r"^rollout guard of plugin crm: input 'template_hash':"):
        RolloutGuardInputs.from_props({**PROPS, "template_hash": ""})


def test_resource_props_name_exactly_the_model_fields() -> None:
    fields = {key: PROPS.get(key, "h") for key in RolloutGuardInputs.model_fields}
    assert RolloutGuardInputs.resource_props(**fields) == fields
    with pytest.raises(TypeError, match="missing \\['template_hash'\\], unknown \\['selector'\\]"):
        RolloutGuardInputs.resource_props(**{k: v for k, v in PROPS.items()})
