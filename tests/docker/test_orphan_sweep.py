"""The orphan sweep (issue 12, finding 9): its wiring under mocks, its rules against a
fake engine. The real thing, with `pulumi up` killed mid-create, is in
`tests/e2e/test_interrupted_up.py`."""

from __future__ import annotations

from typing import Any

import pytest

from plexica_infra.docker._engine import EngineError
from plexica_infra.docker.labels import PROJECT_LABEL, STACK_LABEL, stack_identity
from plexica_infra.docker.program import deploy_docker
from plexica_infra.docker.sweep import OrphanSweepError, OrphanSweepProvider
from tests.docker.conftest import CONTAINER, SWEEP, _base_config, make_secrets, run_program, shipped_plugins

IDENTITY = stack_identity("plexica-infra", "dev")


class FakeEngine:
    """Containers by id with their labels; records removals."""

    def __init__(self, containers: dict[str, dict[str, str]]) -> None:
        self.containers = containers
        self.removed: list[str] = []

    def list_containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {"Id": cid, "Names": [f"/{cid}-name"], "Labels": have}
            for cid, have in self.containers.items()
            if all(have.get(k) == v for k, v in labels.items())
        ]

    def remove_container(self, container_id: str) -> bool:
        self.removed.append(container_id)
        del self.containers[container_id]
        return True


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    other_stack = {**IDENTITY, STACK_LABEL: "prod"}
    fake = FakeEngine(
        {
            "declared": dict(IDENTITY),
            "recorded-old": dict(IDENTITY),
            "orphan": dict(IDENTITY),
            "other-stack": other_stack,
            "not-ours": {"app": "x"},
        }
    )
    monkeypatch.setattr(OrphanSweepProvider, "_client", staticmethod(lambda props: fake))
    return fake


def _props(*ids: str) -> dict[str, Any]:
    return {"identity": dict(IDENTITY), "container_ids": list(ids), "docker_host": ""}


def test_every_container_carries_the_stack_identity() -> None:
    recorded = run_program(lambda: {"p": deploy_docker(shipped_plugins(), _base_config("dev"), make_secrets())})
    for registration in recorded.of_type(CONTAINER):
        labels = {item["label"]: item["value"] for item in registration.inputs["labels"]}
        assert (labels[PROJECT_LABEL], labels[STACK_LABEL]) == ("plexica-infra", "dev")


def test_the_sweep_runs_after_every_container_and_holds_no_secret() -> None:
    recorded = run_program(lambda: {"p": deploy_docker(shipped_plugins(), _base_config("dev"), make_secrets())})
    [registration] = recorded.of_type(SWEEP)
    containers = recorded.of_type(CONTAINER)
    assert set(registration.dependencies) >= {c.urn for c in containers}
    assert sorted(registration.inputs["container_ids"]) == sorted(f"{c.name}-id" for c in containers)
    assert registration.inputs["identity"] == {**IDENTITY}
    assert set(registration.inputs) == {"identity", "container_ids", "docker_host", "__provider"}


def test_update_removes_only_orphans_of_this_stack(engine: FakeEngine) -> None:
    result = OrphanSweepProvider().update("s", _props("recorded-old"), _props("declared"))
    assert engine.removed == ["orphan"]
    assert result.outs is not None and result.outs["removed"] == ["orphan-name"]
    assert result.outs["container_ids"] == ["declared"]


def test_create_keeps_declared_containers(engine: FakeEngine) -> None:
    OrphanSweepProvider().create(_props("declared", "recorded-old"))
    assert engine.removed == ["orphan"]


def test_diff_reports_a_change_only_when_there_is_an_orphan(engine: FakeEngine) -> None:
    provider = OrphanSweepProvider()
    assert provider.diff("s", _props("declared", "recorded-old"), _props("declared", "recorded-old")).changes
    del engine.containers["orphan"]
    assert not provider.diff("s", _props("declared", "recorded-old"), _props("declared", "recorded-old")).changes
    assert provider.diff("s", _props("declared"), _props("declared", "new")).changes
    assert provider.diff("s", _props("declared"), {**_props(), "container_ids": None}).changes


def test_delete_leaves_recorded_containers_to_the_engine(engine: FakeEngine) -> None:
    OrphanSweepProvider().delete("s", _props("declared", "recorded-old"))
    assert engine.removed == ["orphan"]


def test_no_identity_removes_nothing(engine: FakeEngine) -> None:
    with pytest.raises(OrphanSweepError, match="no identity labels"):
        OrphanSweepProvider().update("s", _props(), {**_props(), "identity": {}})
    assert engine.removed == []


def test_engine_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        def list_containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
            raise EngineError("cannot reach the Docker engine at unix:///nope: refused")

    monkeypatch.setattr(OrphanSweepProvider, "_client", staticmethod(lambda props: Down()))
    with pytest.raises(OrphanSweepError, match=r"^orphan sweep: cannot reach the Docker engine"):
        OrphanSweepProvider().create(_props())
    assert not OrphanSweepProvider().diff("s", _props("a"), _props("a")).changes
