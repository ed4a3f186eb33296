"""Property: any JSON value, or any mutation of a valid manifest, gives a model or structured problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plexica_infra.config import StackConfig, stack_config_from_mapping
from plexica_infra.errors import ManifestError, StackConfigError
from plexica_infra.loader import load_plugins, require_plugins
from tests.conftest import shipped_manifest

_STACK_KEYS = {(field.alias or name) for name, field in StackConfig.model_fields.items()}

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


# Unbounded generators (issue 12, finding 3): the bounded ones above never produced a
# 5,000-digit integer, 100,000 levels of nesting or a bidi override, which all crashed.

huge_numbers = st.builds(
    lambda digits, count, sign: sign + "1" + digits * count,
    st.sampled_from("0123456789"),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["", "-"]),
)
any_unicode = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)


def _require_never_raises_anything_else(tmp: Path, text: str) -> None:
    """`pulumi up` loads manifests with `require_plugins`: a ManifestError, never a traceback."""
    _check(tmp, text)
    try:
        require_plugins(tmp / "plugins")
    except ManifestError as exc:
        assert "Traceback" not in str(exc)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), number=huge_numbers)
def test_any_integer_anywhere_never_raises(tmp_path: Path, data: st.DataObject, number: str) -> None:
    manifest = shipped_manifest("crm")
    path = data.draw(st.sampled_from(_paths(manifest)[1:]))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "__NUMBER__"
    _require_never_raises_anything_else(tmp_path, json.dumps(manifest).replace('"__NUMBER__"', number))


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), depth=st.integers(min_value=1, max_value=200_000), bracket=st.sampled_from(["[]", "{}"]))
def test_any_nesting_depth_never_raises(tmp_path: Path, data: st.DataObject, depth: int, bracket: str) -> None:
    manifest = shipped_manifest("crm")
    path = data.draw(st.sampled_from(_paths(manifest)[1:]))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "__DEEP__"
    opening, closing = (bracket[0], bracket[1]) if bracket == "[]" else ('{"k":', "}")
    deep = (opening * depth + "0" + closing * depth) if bracket == "{}" else (opening * depth + closing * depth)
    _require_never_raises_anything_else(tmp_path, json.dumps(manifest).replace('"__DEEP__"', deep))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), text=any_unicode, key=any_unicode)
def test_any_unicode_in_any_string_or_key_never_raises(
    tmp_path: Path, data: st.DataObject, text: str, key: str
) -> None:
    manifest = shipped_manifest("crm")
    path = data.draw(st.sampled_from(_paths(manifest)[1:]))
    target = manifest
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    manifest[key] = text
    _require_never_raises_anything_else(tmp_path, json.dumps(manifest, ensure_ascii=data.draw(st.booleans())))
    for problem in load_plugins(tmp_path / "plugins").problems:
        assert "\n" not in str(problem) and "\u202e" not in str(problem)


@settings(max_examples=150, deadline=None)
@given(values=st.dictionaries(st.sampled_from(sorted(_STACK_KEYS)), json_values | huge_numbers | any_unicode))
def test_any_stack_config_is_a_model_or_one_error(values: dict[str, Any]) -> None:
    try:
        stack_config_from_mapping(values, source="Pulumi.qa.yaml")
    except StackConfigError as exc:
        assert str(exc).startswith("Pulumi.qa.yaml: ")
