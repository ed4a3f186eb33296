"""The committed JSON Schema is generated from the model and agrees with it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from plexica_infra.schema import SCHEMA_PATH, render_schema
from tests.conftest import shipped_manifest


def test_committed_schema_is_not_stale() -> None:
    assert SCHEMA_PATH.read_text() == render_schema(), "stale schema: run `python -m plexica_infra schema`"


def test_schema_is_draft_2020_12_and_accepts_shipped_manifests() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for plugin_id in ("crm", "analytics"):
        jsonschema.Draft202012Validator(schema).validate(shipped_manifest(plugin_id))


@pytest.mark.parametrize(("section", "key"), [("runtime", "imag"), ("api", "healthcheck"), ("deployment", "replica")])
def test_schema_rejects_unknown_keys_in_closed_sections(section: str, key: str) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    manifest = shipped_manifest("crm")
    manifest[section][key] = 1
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(manifest))
    assert any("Additional properties are not allowed" in e.message for e in errors)


def test_schema_lets_core_owned_sections_pass() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    manifest = shipped_manifest("crm") | {"permissions": ["contacts:read"]}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(manifest)) == []
