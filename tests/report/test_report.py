"""`python -m plexica_infra report` on engine output recorded from real runs
(tests/report/fixtures, re-recorded by `make report-fixtures`), and its edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plexica_infra.errors import PlexicaError
from plexica_infra.report import load_review, parse_policy_events, parse_preview, render_markdown
from tests.report._cli import run_report


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
    result = run_report(tmp_path)
    assert result.returncode == 2
    assert "prod.preview.json: not readable as JSON" in result.stderr and "Traceback" not in result.stderr
