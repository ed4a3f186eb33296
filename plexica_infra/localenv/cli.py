"""`python -m plexica_infra.localenv COMMAND`: manage the local environment (typer).

Commands (stdout carries only the result, progress goes to stderr)::

    docker-up                 find or start a Docker engine; prints its DOCKER_HOST
    docker-down               stop the dockerd docker-up started (never a foreign one)
    images REF [REF ...]      build/tag the reference plugin image as every REF; prints "REF IMAGE_ID"
    emulator-up               start (or reuse) the Core API emulator; prints its base URL
    emulator-down             stop the emulator emulator-up started
    cluster-up                start (or reuse) the local Kubernetes cluster; prints its kubeconfig
    cluster-down              stop it and remove every process, mount, bridge, netns and chain of ours
    up | down [--stack S]     make up / make down of the local (Docker) or kube (cluster) stack
    preview [--stack S]       pulumi preview --diff of a stack
    preview-prod              cluster-less preview of prod, rendered to YAML
    pr-preview --out DIR [--base-dir BASE]
                              prod changes of this checkout against BASE, with the policy pack
                              (exit 0 even when the preview fails: the report gives the verdict)
    status [--json]           what is running

Global option `--state-dir` (default: $PLEXICA_STATE_DIR, else <repo>/.state).
Exit status: 0 success, 1 failure (one line on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import docker.errors
import httpx
import typer
from typer.exceptions import TyperException

from plexica_infra.errors import PlexicaError
from plexica_infra.localenv.dockerd import ensure_docker, stop_docker
from plexica_infra.localenv.emulator import (
    DEFAULT_EMULATOR_PORT,
    TOKEN_ENV_VAR,
    emulator_paths,
    emulator_status,
    start_emulator,
    stop_emulator,
)
from plexica_infra.localenv.engines import docker_status, find_docker
from plexica_infra.localenv.images import build_plugin_images
from plexica_infra.localenv.review import pr_preview
from plexica_infra.localenv.stack import local_down, local_up, preview, preview_prod
from plexica_infra.localenv.toolchain import REPO

__all__ = ["app", "default_state_dir", "emulator_token", "main"]

PROG = "python -m plexica_infra.localenv"
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Local environment: Docker engine, plugin images, Core API emulator, and the local stack.",
)


def default_state_dir() -> Path:
    """$PLEXICA_STATE_DIR, else `.state` at the repository root (where .gitignore expects it)."""
    env = os.environ.get("PLEXICA_STATE_DIR", "").strip()
    return Path(env).resolve() if env else REPO / ".state"


def emulator_token(state_dir: Path, token_file: Path | None = None) -> str:
    """Token for the emulator: --token-file, else $PLEXICA_CORE_API_TOKEN, else a generated one
    kept (mode 0600) in `<state_dir>/emulator/token` so every run agrees."""
    if token_file is not None:
        token = token_file.read_text().strip()
        if not token:
            raise PlexicaError(f"token file {token_file} is empty")
        return token
    env = os.environ.get(TOKEN_ENV_VAR, "").strip()
    if env:
        return env
    path = emulator_paths(state_dir).root / "token"
    if path.is_file():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def _state(ctx: typer.Context) -> Path:
    state: Path = ctx.obj
    return state


@app.callback()
def _global(
    ctx: typer.Context,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="state directory (default $PLEXICA_STATE_DIR or <repo>/.state)")
    ] = None,
) -> None:
    ctx.obj = (state_dir or default_state_dir()).resolve()


@app.command("docker-up")
def docker_up(ctx: typer.Context) -> None:
    """Find or start a Docker engine; print its DOCKER_HOST."""
    typer.echo(ensure_docker(_state(ctx)))


@app.command("docker-down")
def docker_down(ctx: typer.Context) -> None:
    """Stop the dockerd that docker-up started."""
    stop_docker(_state(ctx))


@app.command()
def images(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(metavar="REF...", help="image reference, e.g. plexica/crm:1.2.0")],
    docker_host: Annotated[
        str | None, typer.Option("--docker-host", help="engine to use (default: DOCKER_HOST, default socket or ours)")
    ] = None,
) -> None:
    """Build the reference plugin image and tag it as every REF."""
    state_dir = _state(ctx)
    host = docker_host or find_docker(state_dir)
    if host is None:
        raise PlexicaError(f"no Docker engine answers; run `{PROG} docker-up` first")
    for ref, image_id in build_plugin_images(refs, docker_host=host, state_dir=state_dir).items():
        typer.echo(f"{ref} {image_id}")


@app.command("emulator-up")
def emulator_up(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = DEFAULT_EMULATOR_PORT,
    db: Annotated[Path | None, typer.Option(help="SQLite file (default <state-dir>/emulator/core-api.db)")] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(help=f"file holding the admin token (default ${TOKEN_ENV_VAR}, else <state-dir>/emulator/token)"),
    ] = None,
) -> None:
    """Start (or reuse) the Core API emulator; print its URL."""
    state_dir = _state(ctx)
    token = emulator_token(state_dir, token_file)
    typer.echo(start_emulator(state_dir, host=host, port=port, token=token, db=db))


@app.command("emulator-down")
def emulator_down(ctx: typer.Context) -> None:
    """Stop the Core API emulator that emulator-up started."""
    stop_emulator(_state(ctx))


@app.command("cluster-up")
def cluster_up_command(ctx: typer.Context) -> None:
    """Start (or reuse) the local Kubernetes cluster; print its kubeconfig path."""
    from plexica_infra.localenv.cluster import cluster_up

    typer.echo(cluster_up(_state(ctx)).kubeconfig)


@app.command("cluster-down")
def cluster_down_command(ctx: typer.Context) -> None:
    """Stop the local Kubernetes cluster and remove what it left on the host."""
    from plexica_infra.localenv.cluster import cluster_down

    cluster_down(_state(ctx))


_STACK_HELP = "local (Docker engine) or kube (the local Kubernetes cluster)"


def _check_stack(stack: str) -> None:
    if stack not in ("local", "kube"):
        raise PlexicaError(f"--stack {stack!r}: make up/down manage 'local' or 'kube'")


@app.command()
def up(ctx: typer.Context, stack: Annotated[str, typer.Option(help=_STACK_HELP)] = "local") -> None:
    """make up: engine (or cluster), images, emulator, then pulumi up --stack STACK."""
    _check_stack(stack)
    if stack == "kube":
        from plexica_infra.localenv.kube_stack import kube_up

        kube_up(_state(ctx))
        return
    local_up(_state(ctx))


@app.command()
def down(ctx: typer.Context, stack: Annotated[str, typer.Option(help=_STACK_HELP)] = "local") -> None:
    """make down: pulumi destroy --stack STACK, then stop what up started."""
    _check_stack(stack)
    if stack == "kube":
        from plexica_infra.localenv.kube_stack import kube_down

        kube_down(_state(ctx))
        return
    local_down(_state(ctx))


@app.command("preview")
def preview_command(ctx: typer.Context, stack: Annotated[str, typer.Option(help="stack name")] = "local") -> None:
    """pulumi preview --diff of a stack (local uses its documented passphrase)."""
    preview(_state(ctx), stack)


@app.command("preview-prod")
def preview_prod_command(ctx: typer.Context) -> None:
    """Cluster-less pulumi preview of prod; renders YAML to <state-dir>/render/prod."""
    typer.echo(preview_prod(_state(ctx)))


@app.command("pr-preview")
def pr_preview_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="directory for validate.json, prod.preview.json, prod.events.jsonl")],
    base_dir: Annotated[Path | None, typer.Option(help="checkout of the base commit (default: none)")] = None,
) -> None:
    """A pull request's prod changes against its base (no cluster), with the policy pack."""
    pr_preview(_state(ctx), out.resolve(), base_dir=base_dir.resolve() if base_dir else None)
    typer.echo(out)


@app.command()
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False
) -> None:
    """Show what is running."""
    state_dir = _state(ctx)
    docker, emulator = docker_status(state_dir), emulator_status(state_dir)
    report: dict[str, Any] = {"state_dir": str(state_dir), "docker": docker, "emulator": emulator}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    engine = docker["host"] or "none answering"
    owner = f", started by plexica (pid {docker['pid']})" if docker["started_by_plexica"] else ""
    version = f", engine {docker['server_version']}" if docker.get("server_version") else ""
    typer.echo(f"docker:   {engine}{version}{owner}")
    if emulator["running"]:
        answering = "" if emulator.get("answering") else " (NOT answering)"
        typer.echo(f"emulator: {emulator['url']} pid {emulator['pid']}{answering}")
    else:
        typer.echo("emulator: not running")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors are one line on stderr (the tail of a log may follow, indented)."""
    args = list(sys.argv[1:] if argv is None else argv)
    rest = args[2:] if args[:1] == ["--state-dir"] else args
    command = next((arg for arg in rest if not arg.startswith("-")), "")
    try:
        typer.main.get_command(app).main(args, prog_name=PROG, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except TyperException as exc:  # click's usage errors, as typer ships them
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"{PROG}: error: {message} (see --help)", file=sys.stderr)
        return int(getattr(exc, "exit_code", EXIT_USAGE))
    except (PlexicaError, OSError, subprocess.SubprocessError, httpx.HTTPError, docker.errors.DockerException) as exc:
        message = str(exc).strip() or type(exc).__name__
        first, *rest = message.splitlines()
        print(f"{PROG} {command}: error: {first}", file=sys.stderr)
        for line in rest:  # e.g. the tail of dockerd.log: context, not a traceback
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK
