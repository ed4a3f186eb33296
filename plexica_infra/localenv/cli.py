"""`python -m plexica_infra.localenv COMMAND`: manage the local environment.

Commands (stdout carries only the result, progress goes to stderr)::

    docker-up                 find or start a Docker engine; prints its DOCKER_HOST
    docker-down               stop the dockerd docker-up started (never a foreign one)
    images REF [REF ...]      build/tag the reference plugin image as every REF; prints "REF IMAGE_ID"
    emulator-up               start (or reuse) the Core API emulator; prints its base URL
    emulator-down             stop the emulator emulator-up started
    status [--json]           what is running
    pr-preview --out DIR [--base-dir BASE]
                              prod changes of this checkout against BASE, with the policy pack
                              (exit 0 even when the preview fails: the report gives the verdict)

Global option `--state-dir` (default: $PLEXICA_STATE_DIR, else <repo>/.state).
Exit status: 0 success, 1 failure (one line on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import httpx

from plexica_infra.errors import PlexicaError
from plexica_infra.localenv.docker import docker_status, ensure_docker, find_docker, stop_docker
from plexica_infra.localenv.emulator import (
    DEFAULT_EMULATOR_PORT,
    TOKEN_ENV_VAR,
    emulator_paths,
    emulator_status,
    start_emulator,
    stop_emulator,
)
from plexica_infra.localenv.images import build_plugin_images
from plexica_infra.localenv.review import pr_preview
from plexica_infra.localenv.stack import local_down, local_up, preview, preview_prod

__all__ = ["default_state_dir", "emulator_token", "main"]

PROG = "python -m plexica_infra.localenv"
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def default_state_dir() -> Path:
    """$PLEXICA_STATE_DIR, else `.state` at the repository root (where .gitignore expects it)."""
    env = os.environ.get("PLEXICA_STATE_DIR", "").strip()
    if env:
        return Path(env).resolve()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / ".state"
    return Path.cwd() / ".state"


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Local environment: Docker engine, plugin images, Core API emulator.")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state directory (default $PLEXICA_STATE_DIR or <repo>/.state)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("docker-up", help="find or start a Docker engine; print its DOCKER_HOST")
    sub.add_parser("docker-down", help="stop the dockerd that docker-up started")

    images = sub.add_parser("images", help="build the reference plugin image and tag it as every REF")
    images.add_argument(
        "refs", nargs="+", metavar="REF", help="image reference, e.g. registry.plexica.io/plugins/crm:1.2.0"
    )
    images.add_argument(
        "--docker-host", default=None, help="engine to use (default: DOCKER_HOST, default socket or ours)"
    )

    emu = sub.add_parser("emulator-up", help="start (or reuse) the Core API emulator; print its URL")
    emu.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1)")
    emu.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT, help=f"port ({DEFAULT_EMULATOR_PORT})")
    emu.add_argument("--db", type=Path, default=None, help="SQLite file (default <state-dir>/emulator/core-api.db)")
    emu.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help=f"file holding the admin token (default ${TOKEN_ENV_VAR}, else <state-dir>/emulator/token)",
    )
    sub.add_parser("emulator-down", help="stop the Core API emulator that emulator-up started")

    sub.add_parser("up", help="make up: engine, images, emulator, then pulumi up --stack local")
    sub.add_parser("down", help="make down: pulumi destroy --stack local, then stop what up started")
    prev = sub.add_parser("preview", help="pulumi preview --diff of a stack (local uses its documented passphrase)")
    prev.add_argument("--stack", default="local", help="stack name (default local)")
    sub.add_parser("preview-prod", help="cluster-less pulumi preview of prod; renders YAML to <state-dir>/render/prod")
    review = sub.add_parser(
        "pr-preview",
        help="a pull request's prod changes against its base (cluster-less) with the policy pack; "
        "writes the files `python -m plexica_infra report` reads",
    )
    review.add_argument("--base-dir", type=Path, default=None, help="checkout of the base commit (default: none)")
    review.add_argument("--out", type=Path, required=True, help="directory for validate.json and prod.preview.json")

    status = sub.add_parser("status", help="show what is running")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _run(args: argparse.Namespace) -> int:
    state_dir: Path = (args.state_dir or default_state_dir()).resolve()
    command: str = args.command
    if command == "docker-up":
        print(ensure_docker(state_dir))
    elif command == "docker-down":
        stop_docker(state_dir)
    elif command == "images":
        host = args.docker_host or find_docker(state_dir)
        if host is None:
            raise PlexicaError(f"no Docker engine answers; run `{PROG} docker-up` first")
        for ref, image_id in build_plugin_images(args.refs, docker_host=host, state_dir=state_dir).items():
            print(f"{ref} {image_id}")
    elif command == "emulator-up":
        token = emulator_token(state_dir, args.token_file)
        print(start_emulator(state_dir, host=args.host, port=args.port, token=token, db=args.db))
    elif command == "emulator-down":
        stop_emulator(state_dir)
    elif command == "up":
        return local_up(state_dir)
    elif command == "down":
        return local_down(state_dir)
    elif command == "preview":
        return preview(state_dir, args.stack)
    elif command == "preview-prod":
        print(preview_prod(state_dir))
    elif command == "pr-preview":
        pr_preview(state_dir, args.out.resolve(), base_dir=args.base_dir.resolve() if args.base_dir else None)
        print(args.out)
    elif command == "status":
        docker, emulator = docker_status(state_dir), emulator_status(state_dir)
        report: dict[str, Any] = {"state_dir": str(state_dir), "docker": docker, "emulator": emulator}
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            engine = docker["host"] or "none answering"
            owner = f", started by plexica (pid {docker['pid']})" if docker["started_by_plexica"] else ""
            version = f", engine {docker['server_version']}" if docker.get("server_version") else ""
            print(f"docker:   {engine}{version}{owner}")
            if emulator["running"]:
                answering = "" if emulator.get("answering") else " (NOT answering)"
                print(f"emulator: {emulator['url']} pid {emulator['pid']}{answering}")
            else:
                print("emulator: not running")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"{PROG}: error: {exc} (see --help)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (PlexicaError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
        message = str(exc).strip() or type(exc).__name__
        first, *rest = message.splitlines()
        print(f"{PROG} {args.command}: error: {first}", file=sys.stderr)
        for line in rest:  # e.g. the tail of dockerd.log: context, not a traceback
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAIL
