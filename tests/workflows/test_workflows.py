"""The GitHub Actions workflows: actionlint (built from its Go module into .tools/bin)
accepts them, rejects a broken copy, and they do what the pull-request flow promises."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexica_infra.report import MARKER

REPO = Path(__file__).resolve().parents[2]
ACTIONLINT = REPO / ".tools" / "bin" / "actionlint"
WORKFLOWS = REPO / ".github" / "workflows"


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} is missing: run `make setup` (tools/build.sh builds it)"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-oneline", *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return data


def _runs(workflow: dict[Any, Any]) -> list[str]:
    return [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]


def test_actionlint_accepts_every_workflow() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} == {"pull-request.yml", "deploy.yml"}
    result = _actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "pull-request.yml"
    broken.parent.mkdir(parents=True)
    text = (WORKFLOWS / "pull-request.yml").read_text()
    # A misspelt input of actions/checkout and a step output read from an unknown step.
    text = text.replace(
        "ref: ${{ github.event.pull_request.base.sha }}", "reff: ${{ github.event.pull_request.base.sha }}"
    )
    text = text.replace("steps.report.outputs.status", "steps.reprot.outputs.status")
    broken.write_text(text)
    result = _actionlint(broken)
    assert result.returncode == 1
    assert '"reff"' in result.stdout and "reprot" in result.stdout


def test_pull_request_runs_the_review_and_posts_one_comment() -> None:
    workflow = _load("pull-request.yml")
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the `on:` key as True
    runs = "\n".join(_runs(workflow))
    for command in (
        "make setup",
        "make validate STACK=prod",
        "make unit",
        "make preview STACK=local",
        "plexica_infra.localenv pr-preview --base-dir .pr-base",
        "plexica_infra report",
    ):
        assert command in runs, command
    steps = workflow["jobs"]["review"]["steps"]
    caches = [s["with"] for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert any(c["path"] == ".tools" and "hashFiles('tools/**')" in c["key"] for c in caches)
    assert any("~/go/pkg/mod" in c["path"] and "~/.cache/go-build" in c["path"] for c in caches)
    script = next(s["with"]["script"] for s in steps if str(s.get("uses", "")).startswith("actions/github-script@"))
    # The comment is found by the report's first line (its marker) and updated, else created.
    assert "updateComment" in script and "createComment" in script and "startsWith(marker)" in script
    assert MARKER.startswith("<!--")


def test_deploy_uses_environments_and_never_puts_secrets_on_a_command_line() -> None:
    workflow = _load("deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["dev"]["environment"] == "dev"
    assert jobs["prod"]["environment"] == "prod"
    assert jobs["prod"]["needs"] == "dev"
    text = (WORKFLOWS / "deploy.yml").read_text() + (WORKFLOWS / "pull-request.yml").read_text()
    # Secrets are only ever mapped into env:, never interpolated into a script.
    for run in _runs(workflow) + _runs(_load("pull-request.yml")):
        assert "secrets." not in run
    assert re.findall(r"\$\{\{ secrets\.", text)
    script = (REPO / ".github" / "deploy.sh").read_text()
    assert "pulumi config set --secret" in script and "printf '%s' \"${!variable}\" |" in script
    assert "--policy-pack policy" in script
    assert "set -x" not in script and 'echo "$' not in script


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_deployed_stack_has_policy_config(stack: str) -> None:
    assert (REPO / "policy" / "config" / f"{stack}.json").is_file()
