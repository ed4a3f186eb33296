"""`make preview-prod`: the prod stack's program previewed with the real Kubernetes
provider and no cluster, then rendered to YAML that passes strict schema validation."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.e2e._project import REPO, require_toolchain

pytestmark = pytest.mark.e2e
KUBERNETES_VERSION = "1.33"


def test_preview_prod_renders_the_full_valid_resource_set(tmp_path: Path) -> None:
    require_toolchain()
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-m", "plexica_infra.localenv", "--state-dir", str(state), "preview-prod"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out_dir = Path(result.stdout.strip().splitlines()[-1])
    assert out_dir == state / "render" / "prod"
    objects = [doc for path in sorted(out_dir.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]
    kinds = Counter(obj["kind"] for obj in objects)
    for kind in ("Deployment", "Service", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert kinds[kind] == 2, kinds  # crm and analytics
    assert kinds["ConfigMap"] == 1  # the guide's scrape_configs for all plugins
    assert kinds["Namespace"] == 1
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    # The preview itself named the same resources, and no placeholder secret leaked.
    assert "kubernetes:apps/v1:Deployment" in result.stdout + result.stderr
    assert "preview-placeholder" not in result.stdout + result.stderr
    assert not (REPO / "Pulumi.prod-render.yaml").exists()
