"""Engine output in: a `pulumi preview --json` digest, its `--event-log` and
`validate --json`, read into a `Review`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plexica_infra.errors import PlexicaError
from plexica_infra.report._model import (
    SHARED,
    Change,
    PolicyViolation,
    ResourceChange,
    Review,
    StackReview,
    ValidationProblem,
    urn_name,
    urn_type,
)

__all__ = ["load_review", "parse_policy_events", "parse_preview"]

_OPS: dict[str, Change] = {
    "create": "add",
    "update": "change",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "discard-replaced": "replace",
    "delete": "remove",
    "discard": "remove",
}
#: Component types that hold one plugin's resources, and how their name spells the plugin id.
_PLUGIN_COMPONENTS = {"plexica:k8s:Plugin": "plugin-", "plexica:docker:Plugin": "", "plexica:core:Plugin": ""}


def _state(step: dict[str, Any]) -> dict[str, Any]:
    state = step.get("newState") or step.get("oldState") or {}
    return state if isinstance(state, dict) else {}


def parse_preview(data: dict[str, Any], stack: str) -> StackReview:
    """One stack's changes (per plugin) and error diagnostics from a `pulumi preview --json` digest."""
    steps = [s for s in data.get("steps") or [] if isinstance(s, dict) and isinstance(s.get("urn"), str)]
    parents = {s["urn"]: _state(s).get("parent", "") for s in steps}

    def plugin_of(urn: str) -> str:
        seen = set()
        while urn and urn not in seen:
            seen.add(urn)
            prefix = _PLUGIN_COMPONENTS.get(urn_type(urn))
            if prefix is not None:
                return urn_name(urn).removeprefix(prefix)
            urn = parents.get(urn, "")
        return SHARED

    review = StackReview(stack)
    seen: set[tuple[str, Change]] = set()
    for step in steps:
        change = _OPS.get(str(step.get("op", "")))
        state = _state(step)
        if change is None or not state.get("custom", True) or (step["urn"], change) in seen:
            continue
        seen.add((step["urn"], change))
        if change == "change":
            fields = sorted(step.get("detailedDiff") or {}) or sorted(step.get("diffReasons") or [])
        elif change == "replace":
            fields = sorted(step.get("replaceReasons") or [])
        else:
            fields = []
        review.changes.append(
            ResourceChange(
                change=change,
                urn=step["urn"],
                type=urn_type(step["urn"]),
                name=urn_name(step["urn"]),
                plugin=plugin_of(step["urn"]),
                fields=tuple(fields),
            )
        )
    for diagnostic in data.get("diagnostics") or []:
        if isinstance(diagnostic, dict) and diagnostic.get("severity") == "error":
            message = str(diagnostic.get("message", "")).strip()
            if message:
                review.errors.append(message)
    return review


def parse_policy_events(lines: list[str]) -> list[PolicyViolation]:
    """Policy violations from an engine event log (JSON lines); the JSON digest omits them."""
    violations: list[PolicyViolation] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        policy = event.get("policyEvent") if isinstance(event, dict) else None
        if not isinstance(policy, dict):
            continue
        # The engine sends "<policy description>\n<violation message>"; keep what to change.
        lines_ = [part for part in str(policy.get("message", "")).strip().splitlines() if part.strip()]
        message = " ".join(lines_[1:] if len(lines_) > 1 else lines_).strip()
        violations.append(
            PolicyViolation(
                policy=str(policy.get("policyName", "?")),
                level=str(policy.get("enforcementLevel", "mandatory")),
                message=message,
                urn=str(policy.get("resourceUrn") or ""),
            )
        )
    return list(dict.fromkeys(violations))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PlexicaError(f"{path}: not readable as JSON ({exc}); regenerate it") from None


def load_review(directory: Path) -> Review:
    """Everything a review directory holds (see the module docstring)."""
    if not directory.is_dir():
        raise PlexicaError(f"{directory}: no such review directory; create it with pr-preview")
    problems = []
    validate = directory / "validate.json"
    if validate.is_file():
        problems = [
            ValidationProblem(str(p.get("file", "")), str(p.get("pointer", "")), str(p.get("message", "")))
            for p in _read_json(validate)
            if isinstance(p, dict)
        ]
    stacks = []
    for preview in sorted(directory.glob("*.preview.json")):
        stack = preview.name.removesuffix(".preview.json")
        data = _read_json(preview)
        review = parse_preview(data if isinstance(data, dict) else {}, stack)
        events = directory / f"{stack}.events.jsonl"
        if events.is_file():
            review.violations = parse_policy_events(events.read_text(encoding="utf-8").splitlines())
        exit_file = directory / f"{stack}.exit"
        if exit_file.is_file():
            code = exit_file.read_text(encoding="utf-8").strip()
            if code != "0" and not review.errors and not any(v.blocking for v in review.violations):
                review.errors.append(f"`pulumi preview` exited with status {code}; see the workflow log")
        stacks.append(review)
    if not stacks and not validate.is_file():
        raise PlexicaError(f"{directory}: holds no validate.json and no <stack>.preview.json")
    return Review(stacks, problems)
