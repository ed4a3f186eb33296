"""The rendered objects pass checkov's Kubernetes checks.

checkov lives in its own venv (`.venv-checkov`, made by tests/k8s/setup_checkov.sh,
which `make setup` runs) because it pins many dependencies. One checkov run scans
every variant plus a deliberately insecure control Deployment, which must fail, so
the scan is known to be looking.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s._support import REPO
from tests.k8s._variants import VARIANTS, variant_objects

pytestmark = pytest.mark.scanner

CHECKOV = Path(os.environ.get("CHECKOV_VENV", REPO / ".venv-checkov")) / "bin" / "checkov"

#: Checks skipped, each for a reason that holds for every plugin.
SKIPPED_CHECKS = {
    # "Image should use digest": manifests must pin a tag or a digest (the manifest
    # validator refuses neither; prod refuses `:latest`), and a digest is accepted and
    # passed through. Requiring digests is a release-process rule, not this deployer's.
    "CKV_K8S_43",
    # "Image Pull Policy should be Always": images are pinned, so a re-pull gains
    # nothing and would make every pod restart depend on the registry; IfNotPresent is
    # the guide's choice.
    "CKV_K8S_15",
    # "Prefer secrets as files over environment variables": the guide's plugin contract
    # is DATABASE_URL, REDIS_URL and JWT_SECRET as environment variables. They come from
    # `secretKeyRef` (never inline values), so nothing secret is in the Deployment.
    "CKV_K8S_35",
    # "Containers should run as a high UID (>= 10000)": 1001 is the guide's Dockerfile
    # user and the reference image's; the pod also sets runAsNonRoot, drops every
    # capability and forbids privilege escalation.
    "CKV_K8S_40",
}

#: Checks that must have passed on every plugin Deployment (so the scan is not vacuous).
REQUIRED_PASSES = {
    "CKV_K8S_8",  # liveness probe
    "CKV_K8S_9",  # readiness probe
    "CKV_K8S_10",  # CPU requests
    "CKV_K8S_11",  # CPU limits
    "CKV_K8S_12",  # memory requests
    "CKV_K8S_13",  # memory limits
    "CKV_K8S_20",  # no allowPrivilegeEscalation
    "CKV_K8S_22",  # read-only root filesystem
    "CKV_K8S_23",  # not root
    "CKV_K8S_28",  # no NET_RAW
    "CKV_K8S_31",  # seccomp RuntimeDefault
    "CKV_K8S_37",  # no capabilities
    "CKV_K8S_38",  # no service account token
    "CKV2_K8S_6",  # a NetworkPolicy selects the pods
}

_CONTROL = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "insecure-control", "namespace": "plexica"},
    "spec": {
        "selector": {"matchLabels": {"app": "insecure-control"}},
        "template": {
            "metadata": {"labels": {"app": "insecure-control"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:latest", "securityContext": {"privileged": True}}]},
        },
    },
}


def _checkov_results(directory: Path) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run tests/k8s/setup_checkov.sh (part of `make setup`)")
    completed = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "kubernetes",
            "--output",
            "json",
            # Offline: no download of external checks or guidelines.
            "--skip-download",
            "--skip-check",
            ",".join(sorted(SKIPPED_CHECKS)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_EXPERIMENTAL_IMAGE_REFERENCING": "False"},
    )
    # Exit 1 is "some check failed" (the control does); anything else is a crash.
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    (kubernetes,) = [r for r in reports if r["check_type"] == "kubernetes"]
    results: dict[str, Any] = kubernetes["results"]
    return results


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("rendered")
    for variant in VARIANTS:
        (directory / f"{variant}.yaml").write_text(yaml.safe_dump_all(variant_objects(variant), sort_keys=False))
    (directory / "control.yaml").write_text(yaml.safe_dump(_CONTROL))
    return _checkov_results(directory)


def test_rendered_objects_fail_no_check(scan: dict[str, Any]) -> None:
    failures = [
        f"{check['check_id']} {check['check_name']} on {check['resource']} ({check['file_path']})"
        for check in scan["failed_checks"]
        if check["file_path"] != "/control.yaml"
    ]
    assert failures == []
    assert scan["parsing_errors"] == []


def test_every_plugin_deployment_passed_the_core_checks(scan: dict[str, Any]) -> None:
    # Per-object checks report on "Deployment.<ns>.<name>"; graph checks (CKV2_*) on
    # the pod they derive from it, "Pod.<ns>.<name>.<labels>". Names hold no dots.
    passed: dict[tuple[str, str, str], set[str]] = {}
    for check in scan["passed_checks"]:
        kind, namespace, name = check["resource"].split(".")[:3]
        if kind in ("Deployment", "Pod") and check["file_path"] != "/control.yaml":
            passed.setdefault((check["file_path"], namespace, name), set()).add(check["check_id"])
    deployments = {
        (f"/{variant}.yaml", obj["metadata"]["namespace"], obj["metadata"]["name"])
        for variant in VARIANTS
        for obj in variant_objects(variant)
        if obj["kind"] == "Deployment"
    }
    assert set(passed) == deployments
    for deployment, checks in passed.items():
        assert checks >= REQUIRED_PASSES, f"{deployment}: {sorted(REQUIRED_PASSES - checks)}"


def test_skipped_checks_did_not_run(scan: dict[str, Any]) -> None:
    ran = {check["check_id"] for check in scan["passed_checks"] + scan["failed_checks"]}
    assert not ran & SKIPPED_CHECKS


def test_the_control_fails(scan: dict[str, Any]) -> None:
    failed = {check["check_id"] for check in scan["failed_checks"] if check["file_path"] == "/control.yaml"}
    # privileged container, no probes, no limits, latest tag.
    assert {"CKV_K8S_16", "CKV_K8S_8", "CKV_K8S_11", "CKV_K8S_14"} <= failed
