"""Every emitted object validates against Kubernetes' own OpenAPI schema, strictly.

kubernetes-validate ships the schema per Kubernetes version; strict mode rejects
unknown fields, so a misspelt key (which the API server would silently drop with
client-side apply) fails here. The pinned version is 1.33: the preStop `sleep`
handler needs >= 1.30.
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from plexica_infra.k8s.names import K8sObject
from tests.k8s._support import KUBERNETES_VERSION
from tests.k8s._variants import VARIANTS, variant_objects

#: Custom resources have no schema in the Kubernetes OpenAPI document (theirs lives in
#: the Prometheus Operator's CRDs, which are not available offline); their fields are
#: asserted one by one in test_monitoring.py instead.
CUSTOM_API_GROUPS = ("monitoring.coreos.com/",)


def _validated(objects: list[K8sObject]) -> list[K8sObject]:
    return [obj for obj in objects if not obj["apiVersion"].startswith(CUSTOM_API_GROUPS)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_object_is_valid_in_strict_mode(variant: str) -> None:
    objects = _validated(variant_objects(variant))
    assert objects
    for obj in objects:
        version = kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        assert version == KUBERNETES_VERSION, f"{obj['kind']} validated against {version}"


def test_the_variants_cover_every_kind() -> None:
    kinds = {obj["kind"] for variant in VARIANTS for obj in variant_objects(variant)}
    assert kinds == {
        "Namespace",
        "Secret",
        "ConfigMap",
        "ServiceAccount",
        "NetworkPolicy",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "PrometheusRule",
    }


def test_strict_mode_catches_a_misspelt_field() -> None:
    deployment = next(obj for obj in variant_objects("prod") if obj["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"httpGet": {"path": "/", "port": "http"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_sleep_handler_needs_the_pinned_version() -> None:
    """The preStop sleep handler: in the API since 1.29 (alpha), on by default since 1.30."""
    deployment = next(obj for obj in variant_objects("prod") if obj["kind"] == "Deployment")
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError, match="sleep"):
        kubernetes_validate.validate(deployment, "1.28", strict=True)
