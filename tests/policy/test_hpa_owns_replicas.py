"""`hpa-owns-replicas` on live objects and on previews, without an engine.

After `pulumi up` a stack policy sees the live Deployment, whose `spec.replicas` is
always set (the API server defaults it, the autoscaler writes it). Only a `spec.replicas`
that a Pulumi field manager owns in `metadata.managedFields` breaks the rule; a preview
of an object not created yet has no managedFields, and there its inputs count.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.k8s.objects import plugin_objects
from plexica_infra.loader import require_plugins
from plexica_infra.localenv.stack import read_stack_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
import guide_rules as rules  # type: ignore[import-not-found]

REPO = Path(__file__).resolve().parents[2]
#: Server-side apply's manager: `pulumi-kubernetes-` and eight random characters.
SSA_MANAGER = "pulumi-kubernetes-3f2a9c1e"
OWNS_REPLICAS: dict[str, Any] = {"f:spec": {"f:replicas": {}}}
OWNS_TEMPLATE: dict[str, Any] = {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:template": {"f:spec": {}}}}


def _entry(manager: str, fields: dict[str, Any], *, operation: str = "Apply", subresource: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": "apps/v1",
        "time": "2026-12-03T16:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


#: The autoscaler's write through the scale subresource, as kube-controller-manager records it.
HPA_WRITE = _entry("kube-controller-manager", OWNS_REPLICAS, operation="Update", subresource="scale")
#: The Deployment controller's status write: never owns spec.replicas.
STATUS_WRITE = _entry(
    "kube-controller-manager", {"f:status": {"f:replicas": {}}}, operation="Update", subresource="status"
)


def _prod_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """The prod program's Deployment and HPA for the first committed plugin, as built."""
    plugin = require_plugins(REPO / "plugins", allow_latest=False)[0]
    objects = plugin_objects(plugin.manifest, read_stack_file("prod"))
    assert objects.hpa is not None, "prod must autoscale the committed plugins"
    return copy.deepcopy(dict(objects.deployment)), copy.deepcopy(dict(objects.hpa))


def _live(deployment: dict[str, Any], replicas: int, managed: list[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    """`deployment` as the API server returns it: replicas set, managedFields, status."""
    live = copy.deepcopy(deployment)
    live["spec"]["replicas"] = replicas
    live["metadata"].update(uid="6b1f0c2e-0000-4000-8000-000000000001", resourceVersion="4711", **metadata)
    live["metadata"]["managedFields"] = managed
    live["status"] = {"replicas": replicas, "readyReplicas": replicas}
    return live


def _check(deployment: dict[str, Any], hpa: dict[str, Any], **extra: Any) -> list[str]:
    resources = [
        rules.StackResource(rules.K8S_DEPLOYMENT, "plugin-deployment", {**deployment, **extra}),
        rules.StackResource(rules.HPA_TYPES[0], "plugin-hpa", hpa),
    ]
    return list(rules.check_hpa_owns_replicas(resources, {}))


def test_the_prod_program_builds_no_replicas_next_to_its_hpa() -> None:
    deployment, hpa = _prod_pair()
    assert "replicas" not in deployment["spec"]
    assert _check(deployment, hpa) == []


def test_after_up_replicas_owned_by_the_autoscaler_pass() -> None:
    deployment, hpa = _prod_pair()
    live = _live(deployment, 3, [_entry(SSA_MANAGER, OWNS_TEMPLATE), HPA_WRITE, STATUS_WRITE])
    assert _check(live, hpa) == []


def test_after_up_replicas_no_one_owns_pass() -> None:
    """Created without replicas: the API server's default of 1 has no manager."""
    deployment, hpa = _prod_pair()
    live = _live(deployment, 1, [_entry(SSA_MANAGER, OWNS_TEMPLATE), STATUS_WRITE])
    assert _check(live, hpa) == []


def test_after_up_replicas_owned_by_the_controller_manager_only_pass() -> None:
    deployment, hpa = _prod_pair()
    live = _live(deployment, 4, [HPA_WRITE, STATUS_WRITE])
    assert _check(live, hpa) == []


@pytest.mark.parametrize(
    "managed",
    [
        pytest.param([_entry(SSA_MANAGER, {**OWNS_TEMPLATE, **OWNS_REPLICAS}), STATUS_WRITE], id="server-side-apply"),
        pytest.param([_entry("pulumi-kubernetes", OWNS_REPLICAS, operation="Update"), HPA_WRITE], id="client-side"),
    ],
)
def test_after_up_replicas_owned_by_pulumi_fail(managed: list[dict[str, Any]]) -> None:
    deployment, hpa = _prod_pair()
    live = _live(deployment, 2, managed)
    [message] = _check(live, hpa)
    name = deployment["metadata"]["name"]
    assert message.startswith(f"Deployment {name} sets spec.replicas 2 while HorizontalPodAutoscaler")
    assert "leave spec.replicas unset" in message


def test_a_field_manager_named_by_annotation_or_state_is_pulumi() -> None:
    deployment, hpa = _prod_pair()
    annotated = _live(deployment, 2, [_entry("plexica-deploy", OWNS_REPLICAS)])
    annotated["metadata"].setdefault("annotations", {})["pulumi.com/patchFieldManager"] = "plexica-deploy"
    assert len(_check(annotated, hpa)) == 1
    stored = _live(deployment, 2, [_entry("plexica-deploy", OWNS_REPLICAS)])
    assert len(_check(stored, hpa, __fieldManager="plexica-deploy")) == 1
    # The same manager without either mark is someone else's.
    assert _check(_live(deployment, 2, [_entry("plexica-deploy", OWNS_REPLICAS)]), hpa) == []


def test_preview_of_a_new_object_reads_its_inputs() -> None:
    deployment, hpa = _prod_pair()
    with_replicas = copy.deepcopy(deployment)
    with_replicas["spec"]["replicas"] = 3
    [message] = _check(with_replicas, hpa)
    assert "sets spec.replicas 3 while HorizontalPodAutoscaler" in message
    unknown = copy.deepcopy(deployment)
    unknown["spec"]["replicas"] = rules.UNKNOWN
    assert _check(unknown, hpa) == []


def test_without_an_hpa_pulumi_may_own_replicas() -> None:
    deployment, _ = _prod_pair()
    live = _live(deployment, 2, [_entry(SSA_MANAGER, OWNS_REPLICAS)])
    resource = rules.StackResource(rules.K8S_DEPLOYMENT, "plugin-deployment", live)
    assert rules.check_hpa_owns_replicas([resource], {}) == []
