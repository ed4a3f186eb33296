"""Manifests of the real Plexica platform's shape (tests/fixtures/real-shaped, see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plexica_infra.config import StackConfig
from plexica_infra.contract import v1_manifest_problems
from plexica_infra.loader import dependency_order, load_plugins, stack_problems

PLUGINS = Path(__file__).parent / "fixtures" / "real-shaped" / "plugins"
IMAGES = {pid: {"image": f"plexica/{pid}:1.0.0"} for pid in ("plugin-ledger", "plugin-insights", "sample-insights")}


def _stack(**overrides: Any) -> StackConfig:
    values = {"target": "docker", "coreApiUrl": "http://127.0.0.1:4010", "kafkaBrokers": "k:1"} | overrides
    return StackConfig.model_validate(values)


def test_they_are_valid_manifests_as_written() -> None:
    result = load_plugins(PLUGINS)
    assert result.problems == []
    assert [p.id for p in dependency_order(result.plugins)].index("plugin-ledger") < [
        p.id for p in dependency_order(result.plugins)
    ].index("plugin-insights"), "a required api.dependencies entry orders the deploy"
    insights = next(p for p in result.plugins if p.id == "plugin-insights")
    assert insights.manifest.dependency_ids == ["plugin-ledger"]


def test_without_an_image_the_stack_must_name_one() -> None:
    plugins = load_plugins(PLUGINS).plugins
    problems = stack_problems(_stack(), plugins, source="Pulumi.local.yaml")
    assert sorted(p.file.split("/")[-2] for p in problems) == sorted(IMAGES)
    for problem in problems:
        assert problem.pointer == "/runtime/image"
        assert "set runtime.image in its manifest, or plexica:plugins." in problem.message
    assert stack_problems(_stack(plugins=IMAGES), plugins, source="Pulumi.local.yaml") == []


def test_the_plexica_v1_schema_refuses_only_what_the_real_core_api_refuses() -> None:
    plugins = load_plugins(PLUGINS).plugins
    problems = stack_problems(_stack(plugins=IMAGES, coreApiDialect="plexica-v1"), plugins, source="s")
    assert {p.file.split("/")[-2] for p in problems} == {"sample-insights"}
    pointers = {p.pointer for p in problems}
    assert "/id" in pointers and any(p.startswith("/dependencies/") for p in pointers)
    assert all(p.message.startswith("the plexica-v1 Core API would refuse this manifest: ") for p in problems)


def test_the_plexica_v1_registration_document_is_the_file_untouched() -> None:
    for plugin in load_plugins(PLUGINS).plugins:
        written = json.loads(plugin.path.read_text())
        assert plugin.manifest.registration_document("plexica-v1") == written


def test_infra_only_keys_are_left_out_of_the_plexica_v1_document(tmp_path: Path) -> None:
    written = json.loads((PLUGINS / "plugin-ledger" / "plugin.json").read_text())
    ours = {
        **written,
        "runtime": {"type": "typescript", "image": "plexica/ledger:2.1.0"},
        "deployment": {"port": 8080},
        "api": {**written["api"], "healthCheck": "/health", "basePath": "/api/plugins/plugin-ledger"},
    }
    (tmp_path / "plugin-ledger").mkdir()
    (tmp_path / "plugin-ledger" / "plugin.json").write_text(json.dumps(ours))
    [plugin] = load_plugins(tmp_path).plugins
    document = plugin.manifest.registration_document("plexica-v1")
    assert document == written
    assert v1_manifest_problems(document) == []
    guide = plugin.manifest.registration_document("guide")
    assert guide["runtime"]["image"] == "plexica/ledger:2.1.0" and guide["api"]["basePath"]


def test_validate_without_a_stack_says_the_image_must_come_from_one() -> None:
    from typer.testing import CliRunner

    from plexica_infra.cli import app

    result = CliRunner().invoke(app, ["validate", str(PLUGINS)])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if "/runtime/image" in line]
    assert len(lines) == 3
    assert all("validate with --stack <name>" in line and "plexica:plugins." in line for line in lines)
