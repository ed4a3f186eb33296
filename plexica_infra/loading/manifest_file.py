"""One `plugins/<id>/plugin.json`: read, parsed and validated, or the problems that stop it.

Every problem in the file is reported, each with its JSON pointer; nothing raises on
bad input.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plexica_infra._validators import MAX_NESTING_DEPTH, shown, unsafe_character
from plexica_infra.loading.problems import Problem, json_pointer
from plexica_infra.manifest import PluginManifest

__all__ = ["MANIFEST_FILE", "MAX_MANIFEST_BYTES", "parse_file", "validate_manifest"]

MANIFEST_FILE = "plugin.json"
#: Largest manifest accepted: real ones are a few hundred bytes.
MAX_MANIFEST_BYTES = 256 * 1024


def _model_at(loc: Sequence[object]) -> type[BaseModel] | None:
    """The model class whose fields live at `loc`, for 'did you mean' hints."""
    model: type[BaseModel] | None = PluginManifest
    for part in loc:
        if model is None:
            return None
        fields = {(info.alias or name): info for name, info in model.model_fields.items()}
        info = fields.get(str(part))
        if info is None:
            return None
        annotation = info.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _messages(error: dict[str, Any]) -> tuple[str, str]:
    loc = [part for part in error["loc"] if part != "[key]"]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "plexica_field":
        return json_pointer(loc) + ctx["pointer"], ctx["message"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return json_pointer(loc), "required key is missing"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _model_at(loc[:-1])
        accepted = sorted((i.alias or n) for n, i in parent.model_fields.items()) if parent else []
        close = difflib.get_close_matches(key, accepted, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return json_pointer(loc), f"unknown key {key!r}{hint} (accepted: {', '.join(accepted)})"
    if kind.endswith("_type") or kind in ("literal_error", "greater_than_equal", "less_than_equal"):
        found = json.dumps(error.get("input"), default=str)
        if len(found) > 60:
            found = found[:57] + "..."
        return json_pointer(loc), f"{message}; found {found}"
    return json_pointer(loc), message


def _too_deep(data: Any) -> str | None:
    """The pointer of the first value nested deeper than MAX_NESTING_DEPTH, walking
    iteratively so that depth cannot exhaust the stack."""
    pending: list[tuple[Any, tuple[object, ...]]] = [(data, ())]
    while pending:
        value, loc = pending.pop()
        if len(loc) > MAX_NESTING_DEPTH:
            return json_pointer(loc[:MAX_NESTING_DEPTH])
        if isinstance(value, dict):
            pending.extend((child, (*loc, key)) for key, child in value.items())
        elif isinstance(value, list):
            pending.extend((child, (*loc, index)) for index, child in enumerate(value))
    return None


def _unsafe_pass_through(data: dict[str, Any], display: str) -> list[Problem]:
    """Control and bidi characters in the sections the model does not own.

    The model's own types refuse them in every field that becomes a resource; the other
    top-level sections go to the Core API as free text, where newlines and tabs are fine
    but other control, bidi and invisible characters are not.
    """
    problems: list[Problem] = []
    pending: list[tuple[Any, tuple[object, ...]]] = [
        (value, (key,)) for key, value in data.items() if key not in PluginManifest.model_fields
    ]
    # The real Core API's own `api` sections pass through as well.
    api = data.get("api")
    if isinstance(api, dict):
        pending += [(api[key], ("api", key)) for key in ("services", "dependencies") if key in api]
    while pending:
        value, loc = pending.pop(0)
        if isinstance(value, dict):
            for key, child in value.items():
                if (found := unsafe_character(key)) is not None:
                    problems.append(Problem(display, json_pointer(loc), f"key {shown(key)} contains {found}"))
                pending.append((child, (*loc, key)))
        elif isinstance(value, list):
            pending.extend((child, (*loc, index)) for index, child in enumerate(value))
        elif isinstance(value, str) and (found := unsafe_character(value, allow_newlines=True)) is not None:
            problems.append(
                Problem(
                    display,
                    json_pointer(loc),
                    f"contains {found}; control, bidi and invisible characters are not accepted (they make "
                    "text read differently from what it is)",
                )
            )
    for key in data:
        if key not in PluginManifest.model_fields and (found := unsafe_character(key)) is not None:
            problems.append(Problem(display, "", f"key {shown(key)} contains {found}"))
    return problems


def parse_file(path: Path, display: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The manifest as a JSON object, or the one problem that stops it from being one."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None, [
                Problem(display, "", f"the manifest is larger than {MAX_MANIFEST_BYTES // 1024} KiB; it cannot be one")
            ]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot read the manifest: {exc}")]
    if not text.strip():
        return None, [Problem(display, "", "the manifest is empty; expected a JSON object")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(display, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    except RecursionError:
        return None, [
            Problem(display, "", f"invalid JSON: nested too deep; at most {MAX_NESTING_DEPTH} levels are accepted")
        ]
    except ValueError as exc:
        # Python refuses integers of more than 4300 digits (`sys.get_int_max_str_digits`).
        return None, [Problem(display, "", f"invalid JSON: {exc}; numbers in a manifest are small")]
    if not isinstance(data, dict):
        return None, [Problem(display, "", f"the manifest must be a JSON object, found {type(data).__name__}")]
    if (deep := _too_deep(data)) is not None:
        return None, [
            Problem(display, deep, f"nested more than {MAX_NESTING_DEPTH} levels deep; a manifest is a few levels")
        ]
    return data, []


def validate_manifest(data: dict[str, Any], display: str) -> tuple[PluginManifest | None, list[Problem]]:
    problems = _unsafe_pass_through(data, display)
    try:
        manifest = PluginManifest.model_validate(data)
        return (None, problems) if problems else (manifest, [])
    except ValidationError as exc:
        for error in exc.errors():
            pointer, message = _messages(dict(error))
            problems.append(Problem(display, pointer, message))
        return None, problems
