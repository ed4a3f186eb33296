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

from plexica_infra.report._model import (
    MARKER,
    PolicyViolation,
    ResourceChange,
    Review,
    StackReview,
    ValidationProblem,
)
from plexica_infra.report._parse import load_review, parse_policy_events, parse_preview
from plexica_infra.report._render import render_markdown

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
