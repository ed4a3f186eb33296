"""The pack's checks on what our own builders emit, without an engine: the prod objects of
every committed manifest and the local stack's container specs keep every rule (the
engine-level passing case is the prod preview and the local stack's e2e run, both with the
pack)."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.k8s.objects import plugin_objects
from plexica_infra.loader import require_plugins
from plexica_infra.localenv.stack import read_stack_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policy"))
import guide_rules as rules  # type: ignore[import-not-found]

REPO = Path(__file__).resolve().parents[2]
PROD = {"maxCpu": "4", "maxMemory": "8Gi", "forbidLatest": True, "minReplicas": 2}
TYPES = {
    "Deployment": rules.K8S_DEPLOYMENT,
    "NetworkPolicy": rules.K8S_NETWORK_POLICY,
    "PodDisruptionBudget": rules.K8S_PDB,
    "HorizontalPodAutoscaler": rules.HPA_TYPES[0],
}
RESOURCE_CHECKS = [
    rules.check_container_resources,
    rules.check_image_references,
    rules.check_health_probes,
    rules.check_container_hardening,
    rules.check_hpa_min_replicas,
    rules.check_plaintext_secrets,
]


def _prod_objects() -> list[rules.StackResource]:
    stack = read_stack_file("prod")
    out = []
    for plugin in require_plugins(REPO / "plugins", allow_latest=False):
        objects = plugin_objects(plugin.manifest, stack)
        for field in fields(objects):
            obj: dict[str, Any] | None = getattr(objects, field.name)
            if obj is not None:
                out.append(rules.StackResource(TYPES.get(obj["kind"], obj["kind"]), obj["metadata"]["name"], obj))
    return out


@pytest.mark.parametrize("check", RESOURCE_CHECKS, ids=lambda c: c.__name__)
def test_prod_objects_keep_every_resource_rule(check: Any) -> None:
    objects = _prod_objects()
    assert {o.type for o in objects} >= set(TYPES.values())
    assert [m for o in objects for m in check(o.type, o.props, o.name, PROD)] == []


def test_prod_objects_keep_the_stack_rules() -> None:
    objects = _prod_objects()
    assert rules.check_plugin_companions(objects, {}) == []
    assert rules.check_hpa_owns_replicas(objects, {}) == []


@pytest.mark.parametrize(
    ("image", "latest", "digest"),
    [
        ("registry.plexica.io/plugins/crm:1.2.0", False, True),
        ("registry.plexica.io/plugins/crm:latest", True, True),
        ("registry.plexica.io/plugins/crm:Latest", True, True),
        ("registry.plexica.io/plugins/crm", True, True),
        ("localhost:5000/crm", True, True),
        ("localhost:5000/crm:2.0.0@sha256:" + "0" * 64, False, False),
    ],
)
def test_image_reference_rules(image: str, latest: bool, digest: bool) -> None:
    found = rules.check_image_references(
        rules.DOCKER_REMOTE_IMAGE, {"name": image}, "img", {"forbidLatest": True, "requireDigest": True}
    )
    assert any("refuses ':latest'" in m for m in found) is latest
    assert any("not pinned by digest" in m for m in found) is digest


def test_unknown_values_never_fail_a_preview() -> None:
    props = {"cpus": rules.UNKNOWN, "memory": 512, "memoryReservation": 256, "ports": [{"ip": rules.UNKNOWN}]}
    assert rules.check_container_resources(rules.DOCKER_CONTAINER, props, "c", {}) == []
    assert rules.check_docker_ports(rules.DOCKER_CONTAINER, props, "c", {}) == []


def test_secret_marks() -> None:
    env = ["DATABASE_URL=postgresql://u:p@h/db"]
    assert rules.check_plaintext_secrets(rules.DOCKER_CONTAINER, {"envs": rules.mark_secret(env)}, "c", {}) == []
    assert rules.check_plaintext_secrets(rules.DOCKER_CONTAINER, {"envs": env}, "c", {})
    # A credential URL under an innocent name is caught too.
    assert rules.check_plaintext_secrets(rules.DOCKER_CONTAINER, {"envs": ["UPSTREAM=https://a:b@h"]}, "c", {})
