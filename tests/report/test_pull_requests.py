"""Two pull requests as a platform team makes them, through the workflow's entry points and
the real engine: one adds a plugin, one adds a plugin that breaks a policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from plexica_infra.report import MARKER, load_review
from tests.report._scenarios import INVENTORY, greedy, run_pull_request, write_manifest

pytestmark = pytest.mark.e2e

#: What the k8s target creates for one plugin in prod (HPA min 2, so a PDB too), plus its
#: Core API resources. The render stack registers nothing, so those are not created.
NEW_PLUGIN_KINDS = {
    "Deployment",
    "Service",
    "ServiceAccount",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
}


def test_adding_a_plugin_lists_exactly_its_resources(tmp_path: Path) -> None:
    pr = run_pull_request(tmp_path, lambda head: write_manifest(head, INVENTORY))
    assert pr.report_exit == 0, pr.markdown
    review = load_review(pr.review_dir)
    (prod,) = review.stacks
    assert not prod.violations and not prod.errors and not review.problems
    by_plugin = prod.by_plugin
    # Only the new plugin, and only additions. The shared scrape config lists every
    # plugin's target, so it changes too; nothing of crm or analytics does.
    assert set(by_plugin) <= {"inventory", "(shared)"}, by_plugin
    added = by_plugin["inventory"]
    assert {c.change for c in added} == {"add"}
    assert {c.type.rsplit(":", 1)[-1] for c in added} == NEW_PLUGIN_KINDS
    assert all("inventory" in c.name for c in added)
    for shared in by_plugin.get("(shared)", []):
        # The scrape config lists every plugin; ConfigMaps are replaced, not patched.
        assert shared.change in ("change", "replace") and shared.type == "kubernetes:core/v1:ConfigMap", shared
    assert pr.markdown.startswith(MARKER)
    assert "Verdict: ✅ ready to merge" in pr.markdown
    assert "**inventory**" in pr.markdown and "crm" not in pr.markdown.split("### Stack")[1]


def test_a_plugin_over_the_prod_ceiling_fails_the_verdict_with_the_policy_message(tmp_path: Path) -> None:
    pr = run_pull_request(tmp_path, lambda head: write_manifest(head, greedy(INVENTORY)))
    assert pr.report_exit == 1, pr.markdown
    review = load_review(pr.review_dir)
    assert not review.problems  # a valid manifest: only the policy stops it
    (prod,) = review.stacks
    messages = [v.message for v in prod.violations if v.policy == "container-resources"]
    assert messages and all("plugin-reports" in m for m in messages)
    assert any("limits.cpu 8 exceeds the stack's ceiling 4" in m for m in messages)
    assert "Verdict: ❌ do not merge" in pr.markdown
    assert "**container-resources** (mandatory)" in pr.markdown
    assert "limits.cpu 8 exceeds the stack's ceiling 4" in pr.markdown
