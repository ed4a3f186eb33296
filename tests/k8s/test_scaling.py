"""HPA, PDB and who owns the replica count."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plexica_infra.k8s.deployment import deployment
from plexica_infra.k8s.hpa import hpa
from plexica_infra.k8s.pdb import pdb
from plexica_infra.k8s.scaling import scale_plan
from tests.k8s._support import _base_config, manifest, prod_stack, shipped


@pytest.mark.parametrize("plugin_id", ["crm", "analytics"])
def test_hpa_is_the_guides(plugin_id: str) -> None:
    obj = hpa(shipped(plugin_id), prod_stack())
    assert obj is not None
    assert obj["apiVersion"] == "autoscaling/v2"
    assert obj["kind"] == "HorizontalPodAutoscaler"
    assert obj["metadata"]["name"] == f"plugin-{plugin_id}-hpa"
    assert obj["metadata"]["namespace"] == "plexica"
    spec = obj["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"plugin-{plugin_id}"}
    assert spec["minReplicas"] == 2
    assert spec["maxReplicas"] == 10
    assert spec["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
        {
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 85}},
        },
    ]
    assert spec["behavior"] == {
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
        "scaleUp": {
            "stabilizationWindowSeconds": 60,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}],
        },
    }


def test_manifest_autoscaling_settings() -> None:
    m = manifest(
        deployment={"autoscaling": {"minReplicas": 3, "maxReplicas": 6, "cpuUtilization": 70, "memoryUtilization": 75}}
    )
    obj = hpa(m, _base_config())
    assert obj is not None
    assert (obj["spec"]["minReplicas"], obj["spec"]["maxReplicas"]) == (3, 6)
    targets = [metric["resource"]["target"]["averageUtilization"] for metric in obj["spec"]["metrics"]]
    assert targets == [70, 75]


def test_manifest_turns_the_hpa_off() -> None:
    m = manifest(deployment={"autoscaling": {"enabled": False}, "replicas": 3})
    stack = _base_config()
    assert hpa(m, stack) is None
    assert deployment(m, stack)["spec"]["replicas"] == 3


def test_stack_turns_the_hpa_off() -> None:
    stack = _base_config(kubernetes={"autoscaling": False})
    assert hpa(shipped("crm"), stack) is None
    assert deployment(shipped("crm"), stack)["spec"]["replicas"] == 2


def test_explicit_replicas_raise_the_hpa_floor() -> None:
    stack = _base_config(plugins={"crm": {"replicas": 12}})
    obj = hpa(shipped("crm"), stack)
    assert obj is not None
    assert (obj["spec"]["minReplicas"], obj["spec"]["maxReplicas"]) == (12, 12)
    assert "replicas" not in deployment(shipped("crm"), stack)["spec"]


@pytest.mark.parametrize("plugin_id", ["crm", "analytics"])
def test_pdb_for_the_shipped_plugins(plugin_id: str) -> None:
    obj = pdb(shipped(plugin_id), prod_stack())
    assert obj is not None
    assert obj["apiVersion"] == "policy/v1"
    assert obj["kind"] == "PodDisruptionBudget"
    assert obj["metadata"]["name"] == f"plugin-{plugin_id}-pdb"
    assert obj["metadata"]["namespace"] == "plexica"
    assert obj["spec"] == {
        "selector": {"matchLabels": {"app": "plexica", "component": "plugin", "plugin": plugin_id}},
        "maxUnavailable": 1,
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def test_no_pdb_for_a_single_pod() -> None:
    stack = _base_config(defaultReplicas=1, kubernetes={"autoscaling": False})
    assert pdb(shipped("crm"), stack) is None


def test_pdb_when_the_hpa_minimum_is_two_even_if_replicas_say_one() -> None:
    m = manifest(deployment={"replicas": 1})
    assert pdb(m, _base_config()) is not None


def _manifest_strategy() -> st.SearchStrategy[dict[str, Any]]:
    replicas = st.one_of(st.none(), st.integers(1, 20))
    bounds = st.tuples(st.integers(1, 20), st.integers(1, 20)).map(sorted)
    return st.fixed_dictionaries(
        {
            "replicas": replicas,
            "enabled": st.booleans(),
            "bounds": bounds,
            "override": replicas,
            "stack_autoscaling": st.booleans(),
            "default": replicas,
        }
    )


@settings(max_examples=60, deadline=None)
@given(_manifest_strategy())
def test_scaling_invariants(case: dict[str, Any]) -> None:
    low, high = case["bounds"]
    deployment_section: dict[str, Any] = {
        "autoscaling": {"enabled": case["enabled"], "minReplicas": low, "maxReplicas": high}
    }
    if case["replicas"] is not None:
        deployment_section["replicas"] = case["replicas"]
    m = manifest(deployment=deployment_section)
    stack_values: dict[str, Any] = {"kubernetes": {"autoscaling": case["stack_autoscaling"]}}
    if case["override"] is not None:
        stack_values["plugins"] = {"crm": {"replicas": case["override"]}}
    if case["default"] is not None:
        stack_values["defaultReplicas"] = case["default"]
    stack = _base_config(**stack_values)

    plan = scale_plan(m, stack)
    spec = deployment(m, stack)["spec"]
    autoscaler = hpa(m, stack)
    budget = pdb(m, stack)
    # Exactly one owner of the replica count.
    assert (autoscaler is None) == ("replicas" in spec)
    assert plan.autoscaled == (case["enabled"] and case["stack_autoscaling"])
    if autoscaler is None:
        expected = case["override"] or case["replicas"] or case["default"] or 2
        assert spec["replicas"] == expected
        floor = ceiling = expected
    else:
        floor, ceiling = autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"]
        assert low <= floor <= ceiling
        assert ceiling >= high
    assert (budget is not None) == (floor >= 2)
    assert ("topologySpreadConstraints" in spec["template"]["spec"]) == (ceiling > 1)
