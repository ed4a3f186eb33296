"""The report on engine output recorded from real runs (tests/report/fixtures, re-recorded
by `make report-fixtures`: the pull requests of `_scenarios.py` through the real engine)."""

from __future__ import annotations

import json

import pytest

from plexica_infra.report import MARKER, load_review, render_markdown
from tests.report._cli import FIXTURES, run_report


def test_fixtures_were_recorded_from_the_engine() -> None:
    for name in ("add-plugin", "policy-violation", "update-plugin"):
        digest = json.loads((FIXTURES / name / "prod.preview.json").read_text())
        # The engine's digest: steps with URNs and a change summary.
        assert digest["steps"] and all(s["urn"].startswith("urn:pulumi:prod::plexica-infra::") for s in digest["steps"])
        assert "changeSummary" in digest


def test_added_plugin_is_listed_alone() -> None:
    review = load_review(FIXTURES / "add-plugin")
    (prod,) = review.stacks
    assert review.passed
    added = prod.by_plugin["inventory"]
    assert {c.change for c in added} == {"add"}
    assert "crm" not in prod.by_plugin and "analytics" not in prod.by_plugin
    markdown = render_markdown(review)
    assert markdown.splitlines()[0] == MARKER
    assert "Verdict: ✅ ready to merge" in markdown
    assert "| inventory | " in markdown
    assert "- added: `Deployment` plugin-inventory" in markdown


def test_updated_plugin_shows_changed_fields() -> None:
    review = load_review(FIXTURES / "update-plugin")
    (prod,) = review.stacks
    changes = prod.by_plugin["crm"]
    deployment = next(c for c in changes if c.type == "kubernetes:apps/v1:Deployment")
    assert deployment.change == "change"
    assert any("image" in f for f in deployment.fields), deployment.fields
    assert any("memory" in f for f in deployment.fields), deployment.fields
    assert "analytics" not in prod.by_plugin
    markdown = render_markdown(review)
    assert "- changed: `Deployment` plugin-crm (" in markdown


def test_policy_violation_fails_the_verdict_with_its_message() -> None:
    review = load_review(FIXTURES / "policy-violation")
    assert not review.passed
    (prod,) = review.stacks
    assert any(
        v.policy == "container-resources" and "exceeds the stack's ceiling 4" in v.message for v in prod.violations
    )
    markdown = render_markdown(review)
    assert "Verdict: ❌ do not merge" in markdown and "policy violation" in markdown
    assert "**container-resources** (mandatory)" in markdown


@pytest.mark.parametrize(("name", "exit_code"), [("add-plugin", 0), ("update-plugin", 0), ("policy-violation", 1)])
def test_cli_exit_code_follows_the_verdict(name: str, exit_code: int) -> None:
    result = run_report(FIXTURES / name)
    assert result.returncode == exit_code, result.stderr
    assert result.stdout.startswith(MARKER)
