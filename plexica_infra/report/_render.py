"""A `Review` out: the Markdown comment a pull request gets."""

from __future__ import annotations

from plexica_infra.report._model import MARKER, ORDER, ResourceChange, Review, StackReview, urn_name, urn_type

__all__ = ["render_markdown"]

_VERBS = {"add": "added", "change": "changed", "replace": "replaced", "remove": "removed"}


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
            counts = [sum(1 for c in changes if c.change == kind) for kind in ORDER]
            lines.append(f"| {_md(plugin)} | " + " | ".join(str(n) for n in counts) + " |")
        lines.append("")
        for plugin, changes in grouped.items():
            lines.append(f"**{_md(plugin)}**")
            for kind in ORDER:
                for change in (c for c in changes if c.change == kind):
                    lines.append(f"- {_VERBS[kind]}: {_md(_resource(change))}")
            lines.append("")
    if stack.violations:
        lines += ["Policy violations:", ""]
        for v in stack.violations:
            where = f" on {urn_type(v.urn).rsplit(':', 1)[-1]} {urn_name(v.urn)}" if v.urn else ""
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
