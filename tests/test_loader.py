"""Checks across all manifests, and the plugins folder itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from plexica_infra.errors import ManifestError
from plexica_infra.loader import LoadedPlugin, dependency_order, load_plugins
from plexica_infra.manifest import PluginManifest
from tests.conftest import PLUGINS, WritePlugins, shipped_manifest


def test_shipped_plugins_are_valid_and_ordered_by_dependency() -> None:
    result = load_plugins(PLUGINS)
    assert result.problems == []
    assert [p.id for p in dependency_order(result.plugins)] == ["crm", "analytics"]
    assert [p.id for p in dependency_order(result.plugins[::-1])] == ["crm", "analytics"]


def test_dependency_order_refuses_a_dependency_outside_the_set() -> None:
    """The one order is decided here: a set missing a dependency never reaches a target."""
    analytics = [p for p in load_plugins(PLUGINS).plugins if p.id == "analytics"]
    expected = r"plugin.json: /deployment/dependencies: crm not among the plugins being deployed \(analytics\)"
    with pytest.raises(ManifestError, match=expected):
        dependency_order(analytics)


def test_dependency_order_refuses_a_cycle() -> None:
    crm = shipped_manifest("crm")
    crm["deployment"]["dependencies"] = ["analytics"]
    plugins = [
        LoadedPlugin(p.path, PluginManifest.model_validate(crm)) if p.id == "crm" else p
        for p in load_plugins(PLUGINS).plugins
    ]
    with pytest.raises(ManifestError, match="dependency cycle: analytics -> crm -> analytics; remove one"):
        dependency_order(plugins)


def test_id_must_equal_folder(write_plugins: WritePlugins) -> None:
    result = load_plugins(write_plugins({"sales": shipped_manifest("crm")}))
    assert [(p.pointer, p.message) for p in result.problems if p.pointer == "/id"] == [
        ("/id", "id 'crm' must equal its folder name 'sales'")
    ]


def test_duplicate_id_names_both_files(write_plugins: WritePlugins) -> None:
    crm2 = shipped_manifest("crm")
    crm2["deployment"]["port"] = 3300
    result = load_plugins(write_plugins({"crm": shipped_manifest("crm"), "crm2": crm2}))
    duplicate = [p for p in result.problems if "duplicate id" in p.message]
    assert len(duplicate) == 1
    assert duplicate[0].file.endswith("crm2/plugin.json")
    assert "crm/plugin.json" in duplicate[0].message


def test_plugins_may_share_a_container_port(write_plugins: WritePlugins) -> None:
    """Docker publishes each container on its own host port, and pods have their own IPs."""
    analytics = shipped_manifest("analytics")
    analytics["deployment"]["port"] = 3100
    result = load_plugins(write_plugins({"crm": shipped_manifest("crm"), "analytics": analytics}))
    assert result.problems == []


def test_unknown_dependency_suggests_a_close_id(write_plugins: WritePlugins) -> None:
    analytics = shipped_manifest("analytics")
    analytics["deployment"]["dependencies"] = ["crn"]
    result = load_plugins(write_plugins({"crm": shipped_manifest("crm"), "analytics": analytics}))
    [problem] = result.problems
    assert (problem.pointer, problem.message) == (
        "/deployment/dependencies/0",
        "unknown plugin 'crn'; did you mean 'crm'?",
    )


def test_dependency_cycle_is_named(write_plugins: WritePlugins) -> None:
    crm = shipped_manifest("crm")
    crm["deployment"]["dependencies"] = ["analytics"]
    result = load_plugins(write_plugins({"crm": crm, "analytics": shipped_manifest("analytics")}))
    [problem] = result.problems
    assert "dependency cycle: analytics -> crm -> analytics" in problem.message


def test_latest_tag_only_rejected_when_the_stack_forbids_it(write_plugins: WritePlugins) -> None:
    crm = shipped_manifest("crm")
    crm["runtime"]["image"] = "registry.plexica.io/plugins/crm:latest"
    plugins_dir = write_plugins({"crm": crm})
    assert load_plugins(plugins_dir, allow_latest=True).ok
    [problem] = load_plugins(plugins_dir, allow_latest=False).problems
    assert problem.pointer == "/runtime/image"
    assert "'latest' tag" in problem.message


def test_invalid_json_reports_line_and_column(write_plugins: WritePlugins) -> None:
    result = load_plugins(write_plugins({"crm": '{\n  "id": "crm",\n  "name": oops\n}'}))
    [problem] = result.problems
    assert problem.message.startswith("invalid JSON at line 3, column 11")


def test_non_object_and_empty_manifests(write_plugins: WritePlugins) -> None:
    result = load_plugins(write_plugins({"crm": "[1, 2]", "analytics": "  "}))
    messages = sorted(p.message for p in result.problems)
    assert messages == [
        "the manifest is empty; expected a JSON object",
        "the manifest must be a JSON object, found list",
    ]


def test_missing_and_empty_plugins_folder(tmp_path: Path) -> None:
    [missing] = load_plugins(tmp_path / "nope").problems
    assert "plugins folder not found" in missing.message
    (tmp_path / "empty").mkdir()
    [empty] = load_plugins(tmp_path / "empty").problems
    assert "no plugins found; add a manifest at plugins/<id>/plugin.json" in empty.message


def test_folder_without_manifest(write_plugins: WritePlugins) -> None:
    plugins_dir = write_plugins({"crm": shipped_manifest("crm")})
    (plugins_dir / "billing").mkdir()
    [problem] = load_plugins(plugins_dir).problems
    assert problem.file.endswith("billing/plugin.json")
    assert "has no plugin.json" in problem.message
