"""The pull-request report: engine output in, a short Markdown summary out.

Reads a review directory (what `python -m plexica_infra.localenv pr-preview` writes, or
the same files made by hand):

    validate.json            `python -m plexica_infra validate --stack <s> --json`
    <stack>.preview.json     `pulumi preview --json` (the engine's preview digest)
    <stack>.events.jsonl     `pulumi preview --event-log` (policy violations live only here)
    <stack>.exit             the preview's exit code (optional; non-zero with no reason is a failure too)

and renders, per stack and per plugin, what is added, changed (with the fields) or
replaced (with the reasons) or removed; every policy violation with its message; every
validation problem; the engine's errors; and a one-line verdict. Pure: no engine, no
network. The first line is a marker that the workflow uses to update its one comment in
place.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from plexica_infra.errors import PlexicaError

__all__ = [
    "MARKER",
    "PolicyViolation",
    "ResourceChange",
    "Review",
    "StackReview",
    "ValidationProblem",
    "load_review",
    "parse_policy_events",
    "parse_preview",
    "render_markdown",
]

#: First line of every report; the workflow finds its previous comment by it.
MARKER = "<!-- plexica-infra:pr-report -->"

Change = Literal["add", "change", "replace", "remove"]
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
_ORDER: tuple[Change, ...] = ("add", "change", "replace", "remove")
_VERBS = {"add": "added", "change": "changed", "replace": "replaced", "remove": "removed"}
#: Component types that hold one plugin's resources, and how their name spells the plugin id.
_PLUGIN_COMPONENTS = {"plexica:k8s:Plugin": "plugin-", "plexica:docker:Plugin": "", "plexica:core:Plugin": ""}
SHARED = "(shared)"


@dataclass(frozen=True)
class ResourceChange:
    change: Change
    urn: str
    type: str
    name: str
    plugin: str
    #: Changed input paths (update) or the inputs forcing replacement (replace).
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    level: str
    message: str
    urn: str = ""

    @property
    def blocking(self) -> bool:
        return self.level in ("mandatory", "remediate")


@dataclass(frozen=True)
class ValidationProblem:
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.pointer}: {self.message}" if self.pointer else f"{self.file}: {self.message}"


@dataclass
class StackReview:
    stack: str
    changes: list[ResourceChange] = field(default_factory=list)
    violations: list[PolicyViolation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def by_plugin(self) -> dict[str, list[ResourceChange]]:
        grouped: dict[str, list[ResourceChange]] = defaultdict(list)
        for change in self.changes:
            grouped[change.plugin].append(change)
        return dict(sorted(grouped.items(), key=lambda item: (item[0] == SHARED, item[0])))

    def counts(self) -> dict[Change, int]:
        return {kind: sum(1 for c in self.changes if c.change == kind) for kind in _ORDER}


@dataclass
class Review:
    stacks: list[StackReview]
    problems: list[ValidationProblem] = field(default_factory=list)

    @property
    def blocking(self) -> list[str]:
        reasons = []
        violations = sum(1 for s in self.stacks for v in s.violations if v.blocking)
        errors = sum(len(s.errors) for s in self.stacks)
        if self.problems:
            reasons.append(_plural(len(self.problems), "validation problem"))
        if violations:
            reasons.append(_plural(violations, "policy violation"))
        if errors:
            reasons.append(_plural(errors, "preview error"))
        return reasons

    @property
    def passed(self) -> bool:
        return not self.blocking

    def verdict(self) -> str:
        if not self.passed:
            return f"**Verdict: ❌ do not merge:** {', '.join(self.blocking)}."
        parts = []
        for stack in self.stacks:
            counts = stack.counts()
            summary = ", ".join(f"{n} to {k}" for k, n in counts.items() if n) or "no changes"
            parts.append(f"{stack.stack}: {summary}")
        return f"**Verdict: ✅ ready to merge:** policies pass, manifests valid ({'; '.join(parts)})."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- parsing -----------------------------------------------------------------------------
def _urn_type(urn: str) -> str:
    """The resource's own type token (the last of the URN's parent$child type chain)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _urn_name(urn: str) -> str:
    parts = urn.split("::")
    return parts[3] if len(parts) >= 4 else urn


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
            prefix = _PLUGIN_COMPONENTS.get(_urn_type(urn))
            if prefix is not None:
                return _urn_name(urn).removeprefix(prefix)
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
                type=_urn_type(step["urn"]),
                name=_urn_name(step["urn"]),
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


# -- rendering ---------------------------------------------------------------------------
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _resource(change: ResourceChange) -> str:
    kind = change.type.rsplit(":", 1)[-1] or change.type
    line = f"`{kind}` {change.name}"
    if change.fields:
        shown = ", ".join(f"`{f}`" for f in change.fields[:8])
        more = f" (+{len(change.fields) - 8} more)" if len(change.fields) > 8 else ""
        line += f" ({'because of ' if change.change == 'replace' else ''}{shown}{more})"
    return line


def _stack_section(stack: StackReview) -> list[str]:
    lines = [f"### Stack `{stack.stack}`", ""]
    grouped = stack.by_plugin
    if not grouped:
        lines += ["No resource changes.", ""]
    else:
        lines += ["| plugin | added | changed | replaced | removed |", "| --- | --- | --- | --- | --- |"]
        for plugin, changes in grouped.items():
            counts = [sum(1 for c in changes if c.change == kind) for kind in _ORDER]
            lines.append(f"| {_md(plugin)} | " + " | ".join(str(n) for n in counts) + " |")
        lines.append("")
        for plugin, changes in grouped.items():
            lines.append(f"**{_md(plugin)}**")
            for kind in _ORDER:
                for change in (c for c in changes if c.change == kind):
                    lines.append(f"- {_VERBS[kind]}: {_md(_resource(change))}")
            lines.append("")
    if stack.violations:
        lines += ["Policy violations:", ""]
        for v in stack.violations:
            where = f" on {_urn_type(v.urn).rsplit(':', 1)[-1]} {_urn_name(v.urn)}" if v.urn else ""
            lines.append(f"- **{v.policy}** ({v.level}){_md(where)}: {_md(v.message)}")
        lines.append("")
    if stack.errors:
        lines += ["Preview errors:", ""]
        lines += [f"- {_md(error)}" for error in stack.errors]
        lines.append("")
    return lines


def render_markdown(review: Review) -> str:
    lines = [MARKER, "## plexica-infra review", "", review.verdict(), ""]
    if review.problems:
        lines += ["### Validation problems", ""]
        lines += [f"- `{_md(str(p))}`" for p in review.problems]
        lines.append("")
    for stack in review.stacks:
        lines += _stack_section(stack)
    return "\n".join(lines).rstrip() + "\n"
