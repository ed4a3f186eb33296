"""`python -m plexica_infra report` on engine output recorded from real runs
(tests/report/fixtures, re-recorded by `make report-fixtures`), and its edge cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plexica_infra.errors import PlexicaError
from plexica_infra.report import MARKER, load_review, parse_policy_events, parse_preview, render_markdown

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def _report(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plexica_infra", "report", str(directory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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
    result = _report(FIXTURES / name)
    assert result.returncode == exit_code, result.stderr
    assert result.stdout.startswith(MARKER)


def test_validation_problems_fail_the_verdict(tmp_path: Path) -> None:
    problem = {"file": "plugins/x/plugin.json", "pointer": "/runtime/resources/cpu", "message": "invalid CPU quantity"}
    (tmp_path / "validate.json").write_text(json.dumps([problem]))
    review = load_review(tmp_path)
    assert not review.passed
    markdown = render_markdown(review)
    assert "1 validation problem" in markdown
    assert "`plugins/x/plugin.json: /runtime/resources/cpu: invalid CPU quantity`" in markdown


def test_replacement_lists_its_reasons() -> None:
    urn = "urn:pulumi:local::plexica-infra::plexica:docker:Plugin$docker:index/container:Container::plexica-plugin-crm"
    parent = "urn:pulumi:local::plexica-infra::plexica:docker:Plugin::crm"
    steps = [
        {"op": "same", "urn": parent, "newState": {"custom": False}},
        {
            "op": "create-replacement",
            "urn": urn,
            "newState": {"custom": True, "parent": parent},
            "replaceReasons": ["image", "envs"],
        },
        {
            "op": "replace",
            "urn": urn,
            "newState": {"custom": True, "parent": parent},
            "replaceReasons": ["image", "envs"],
        },
        {"op": "delete-replaced", "urn": urn, "oldState": {"custom": True, "parent": parent}},
    ]
    review = parse_preview({"steps": steps}, "local")
    (change,) = review.changes
    assert (change.plugin, change.change, change.fields) == ("crm", "replace", ("envs", "image"))


def test_preview_errors_and_unexplained_failures_block(tmp_path: Path) -> None:
    digest = {"steps": [], "diagnostics": [{"severity": "error", "message": "plugins/crm/plugin.json: /id: bad"}]}
    assert parse_preview(digest, "prod").errors == ["plugins/crm/plugin.json: /id: bad"]
    (tmp_path / "prod.preview.json").write_text("{}")
    (tmp_path / "prod.exit").write_text("255\n")
    review = load_review(tmp_path)
    assert not review.passed and "1 preview error" in review.verdict()


def test_policy_events_ignore_other_events_and_duplicates() -> None:
    event = {"policyEvent": {"policyName": "p", "message": "m", "enforcementLevel": "mandatory", "resourceUrn": "u"}}
    lines = [json.dumps({"sequence": 1, "resourcePreEvent": {}}), json.dumps(event), json.dumps(event), "not json", ""]
    (violation,) = parse_policy_events(lines)
    assert violation.blocking and violation.policy == "p"


def test_unusable_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlexicaError, match="no such review directory"):
        load_review(tmp_path / "missing")
    with pytest.raises(PlexicaError, match=r"holds no validate\.json"):
        load_review(tmp_path)
    (tmp_path / "prod.preview.json").write_text("{not json")
    result = _report(tmp_path)
    assert result.returncode == 2
    assert "prod.preview.json: not readable as JSON" in result.stderr and "Traceback" not in result.stderr
