"""Property: any JSON value, or any mutation of a valid manifest, gives a model or structured problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plexica_infra.loader import load_plugins
from tests.conftest import shipped_manifest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, (*prefix, key)))
    return paths


def _check(tmp: Path, text: str) -> None:
    folder = tmp / "plugins" / "crm"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.json").write_text(text)
    result = load_plugins(tmp / "plugins")
    if result.ok:
        assert [p.id for p in result.plugins] == ["crm"]
    else:
        for problem in result.problems:
            assert problem.file.endswith("plugin.json")
            assert problem.pointer == "" or problem.pointer.startswith("/")
            assert problem.message


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(value=json_values)
def test_any_json_value_never_raises(tmp_path: Path, value: Any) -> None:
    _check(tmp_path, json.dumps(value))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), replacement=json_values)
def test_any_mutation_of_a_valid_manifest_never_raises(tmp_path: Path, data: st.DataObject, replacement: Any) -> None:
    manifest = shipped_manifest("crm")
    path = data.draw(st.sampled_from(_paths(manifest)[1:]))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()):
        del target[path[-1]]
    else:
        target[path[-1]] = replacement
    _check(tmp_path, json.dumps(manifest))


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_never_raises(tmp_path: Path, text: str) -> None:
    _check(tmp_path, text)
