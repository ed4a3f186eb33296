"""What a review holds: resource changes, policy violations, validation problems, and
the verdict they add up to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "MARKER",
    "ORDER",
    "SHARED",
    "Change",
    "PolicyViolation",
    "ResourceChange",
    "Review",
    "StackReview",
    "ValidationProblem",
    "urn_name",
    "urn_type",
]

#: First line of every report; the workflow finds its previous comment by it.
MARKER = "<!-- plexica-infra:pr-report -->"

Change = Literal["add", "change", "replace", "remove"]
ORDER: tuple[Change, ...] = ("add", "change", "replace", "remove")
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
        return {kind: sum(1 for c in self.changes if c.change == kind) for kind in ORDER}


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


def urn_type(urn: str) -> str:
    """The resource's own type token (the last of the URN's parent$child type chain)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def urn_name(urn: str) -> str:
    parts = urn.split("::")
    return parts[3] if len(parts) >= 4 else urn
