"""Pull requests as a platform team makes them, in scratch copies of this repository.

`scratch_checkout` copies what a clone holds (program, stack files, manifests, package,
policy pack) and links the built `.venv` and `.tools` in. A scenario makes a base and a
head checkout, changes the head the way a pull request would, and runs the workflow's
own entry points in the head: `python -m plexica_infra.localenv pr-preview --base-dir
BASE --out DIR`, then `python -m plexica_infra report DIR`.

Used by the pull-request tests (live) and by `record_fixtures.py`, which keeps their
engine output as the report's fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
_COPIED = ("Pulumi.yaml", "Pulumi.local.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "__main__.py", "pyproject.toml")
_TREES = ("plugins", "plexica_infra", "policy")

#: A new plugin, as the guide's "Adding a plugin" has a team write it.
INVENTORY: dict[str, Any] = {
    "id": "inventory",
    "name": "Inventory Plugin",
    "version": "0.3.0",
    "runtime": {
        "type": "typescript",
        "image": "registry.plexica.io/plugins/inventory:0.3.0",
        "resources": {"cpu": "250m", "memory": "256Mi"},
    },
    "api": {"basePath": "/api/plugins/inventory", "healthCheck": "/health"},
    "deployment": {"port": 3300},
}


def greedy(manifest: dict[str, Any]) -> dict[str, Any]:
    """The same plugin asking for 8 cores: a valid manifest, over prod's 4-core ceiling."""
    changed: dict[str, Any] = json.loads(json.dumps(manifest))
    changed["id"] = "reports"
    changed["name"] = "Reports Plugin"
    changed["runtime"]["image"] = "registry.plexica.io/plugins/reports:1.0.0"
    changed["runtime"]["resources"] = {"cpu": "8", "memory": "1Gi"}
    changed["api"]["basePath"] = "/api/plugins/reports"
    changed["deployment"]["port"] = 3400
    return changed


def scratch_checkout(target: Path, source: Path = REPO) -> Path:
    target.mkdir(parents=True)
    for name in _COPIED:
        shutil.copy2(source / name, target / name)
    for tree in _TREES:
        shutil.copytree(source / tree, target / tree, ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"))
    (target / "tools").mkdir()
    shutil.copy2(source / "tools" / "pulumi.env", target / "tools" / "pulumi.env")
    for built in (".venv", ".tools"):
        (target / built).symlink_to(REPO / built)
    return target


def write_manifest(checkout: Path, manifest: dict[str, Any]) -> None:
    folder = checkout / "plugins" / manifest["id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.json").write_text(json.dumps(manifest, indent=2) + "\n")


@dataclass(frozen=True)
class PullRequest:
    review_dir: Path
    report_exit: int
    markdown: str
    pr_preview_stderr: str


def run_pull_request(tmp: Path, change: Callable[[Path], None]) -> PullRequest:
    """Base = this repository's content; head = base + `change`; the workflow's two steps in the head."""
    base = scratch_checkout(tmp / "base")
    head = scratch_checkout(tmp / "head")
    change(head)
    review = tmp / "review"
    env = {**os.environ, "PLEXICA_STATE_DIR": str(tmp / "state")}
    env.pop("PYTHONPATH", None)
    python = str(REPO / ".venv" / "bin" / "python")
    preview = subprocess.run(
        [python, "-m", "plexica_infra.localenv", "pr-preview", "--base-dir", str(base), "--out", str(review)],
        cwd=head,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert preview.returncode == 0, preview.stderr[-3000:]
    report = subprocess.run(
        [python, "-m", "plexica_infra", "report", str(review)],
        cwd=head,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.returncode in (0, 1), report.stderr
    return PullRequest(review, report.returncode, report.stdout, preview.stderr)
