"""Command line: `python -m plexica_infra validate|report|schema`.

`validate` needs no Pulumi CLI and no credentials, so any pull request can run it.
Exit codes: 0 all valid, 1 any problem (all of them printed), 2 usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from plexica_infra._validators import printable
from plexica_infra.config import (
    ConfigProblem,
    StackConfig,
    plaintext_secret_problems,
    stack_config_from_mapping,
    stack_file_values,
)
from plexica_infra.errors import PlexicaError, StackConfigError
from plexica_infra.loader import Problem, display_path, load_plugins, stack_problems, stack_warnings
from plexica_infra.placement import missing_image_message
from plexica_infra.schema import SCHEMA_PATH, render_schema

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="plexica-infra: validate plugin manifests and manage the manifest schema.",
)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _stack_file(project_dir: Path, stack: str) -> Path:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))
        typer.echo(
            f"error: stack {stack!r} has no {path.name} in {project_dir}; known stacks: {', '.join(known) or 'none'}",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    return path


def _load_stack(path: Path) -> tuple[StackConfig | None, list[Problem]]:
    display = path.name
    config: StackConfig | None = None
    problems: list[ConfigProblem] = []
    try:
        values, secrets = stack_file_values(path)
        # Secrets are decrypted only by `pulumi preview`; here we check they are encrypted.
        problems = plaintext_secret_problems(secrets, source=display)
        config = stack_config_from_mapping(values, source=display)
    except StackConfigError as exc:
        problems += exc.problems
    return config, [Problem(display, problem.pointer, problem.keyed_message) for problem in problems]


@app.command()
def validate(
    plugins_dir: Annotated[Path, typer.Argument(help="Folder holding <id>/plugin.json.")] = Path("plugins"),
    stack: Annotated[
        str | None, typer.Option("--stack", help="Also check the stack's config and policy (e.g. prod).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {file, pointer, message}.")] = False,
) -> None:
    """Validate every plugin manifest (and optionally a stack's config); print every problem."""
    problems: list[Problem] = []
    allow_latest = True
    stack_config: StackConfig | None = None
    stack_display = ""
    if stack is not None:
        project_dir = plugins_dir.resolve().parent
        stack_path = _stack_file(project_dir, stack)
        stack_display = stack_path.name
        stack_config, config_problems = _load_stack(stack_path)
        problems.extend(config_problems)
        if stack_config is not None:
            allow_latest = stack_config.allow_latest_tag
    result = load_plugins(plugins_dir, allow_latest=allow_latest)
    problems.extend(result.problems)
    if stack_config is not None:
        problems.extend(stack_problems(stack_config, result.plugins, source=stack_display))
        for warning in stack_warnings(stack_config, result.plugins):
            typer.echo(f"warning: {printable(warning)}", err=True)
    else:  # only a stack can supply a missing image
        problems.extend(
            Problem(
                display_path(p.path), "/runtime/image", f"{missing_image_message(p.id)}; validate with --stack <name>"
            )
            for p in result.plugins
            if p.manifest.runtime.image is None
        )
    if as_json:
        typer.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        for problem in problems:
            typer.echo(str(problem))
        if problems:
            count = len(problems)
            typer.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        else:
            ids = ", ".join(p.id for p in result.plugins)
            where = f" for stack {stack!r}" if stack else ""
            typer.echo(f"{len(result.plugins)} plugin manifest(s) valid{where}: {ids}")
    raise typer.Exit(EXIT_INVALID if problems else EXIT_OK)


@app.command()
def report(
    review_dir: Annotated[
        Path, typer.Argument(help="Folder with validate.json and <stack>.preview.json / .events.jsonl (pr-preview).")
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Also write the Markdown to this file.")] = None,
) -> None:
    """Summarise validate + preview + policy results as Markdown for a pull request; exit 1 if it must not merge."""
    from plexica_infra.report import load_review, render_markdown

    try:
        review = load_review(review_dir)
    except PlexicaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    markdown = render_markdown(review)
    if out is not None:
        out.write_text(markdown, encoding="utf-8")
    typer.echo(markdown, nl=False)
    raise typer.Exit(EXIT_OK if review.passed else EXIT_INVALID)


@app.command()
def schema(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the committed schema is stale.")] = False,
) -> None:
    """Write plexica_infra/schema/plugin.schema.json from the pydantic model."""
    rendered = render_schema()
    if check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != rendered:
            typer.echo(f"{SCHEMA_PATH}: stale; run: python -m plexica_infra schema", err=True)
            raise typer.Exit(EXIT_INVALID)
        typer.echo(f"{SCHEMA_PATH}: up to date")
        return
    SCHEMA_PATH.write_text(rendered, encoding="utf-8")
    typer.echo(f"wrote {SCHEMA_PATH}")


def main() -> None:
    app(prog_name="python -m plexica_infra")
