"""The committed JSON Schema of the plugin manifest, generated from the pydantic model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plexica_infra.manifest import PluginManifest

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "render_schema", "schema_document"]

SCHEMA_PATH = Path(__file__).with_name("plugin.schema.json")
SCHEMA_ID = "https://plexica.dev/schemas/plugin.schema.json"


def schema_document() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of `plugin.json`, from the model with aliases."""
    document = PluginManifest.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **document,
    }


def render_schema() -> str:
    return json.dumps(schema_document(), indent=2, sort_keys=True) + "\n"
