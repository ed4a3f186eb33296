"""The offline Pulumi toolchain as Python sees it: one environment, one CLI.

The settings live once, in `tools/pulumi.env` (the Makefile includes it and
`tools/env.sh` sources it). `pulumi_env()` reads that file for localenv, the tests
and the benchmarks; `pulumi_command()` is the Automation API's handle on the CLI
that `tools/build.sh` built into `.tools/bin`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from string import Template

from pulumi import automation as auto

from plexica_infra.localenv.errors import LocalEnvError

__all__ = [
    "ENV_FILE",
    "REPO",
    "TOOLS_BIN",
    "pulumi_command",
    "pulumi_env",
    "read_env_file",
]

REPO = Path(__file__).resolve().parents[2]
ENV_FILE = REPO / "tools" / "pulumi.env"
TOOLS_BIN = REPO / ".tools" / "bin"
_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def read_env_file(path: Path = ENV_FILE, *, root: Path = REPO) -> dict[str, str]:
    """`NAME=value` lines of `path`, `${NAME}` expanded from earlier lines and PLEXICA_ROOT."""
    values: dict[str, str] = {"PLEXICA_ROOT": str(root)}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise LocalEnvError(f"{path}:{number}: expected NAME=value, found {line!r}")
        try:
            values[match.group(1)] = Template(match.group(2)).substitute(values)
        except (KeyError, ValueError) as exc:
            raise LocalEnvError(f"{path}:{number}: unknown or malformed reference in {line!r}") from exc
    return values


def pulumi_env(
    *,
    base: Mapping[str, str] | None = None,
    backend: Path | None = None,
    docker_host: str | None = None,
    passphrase: str | None = None,
) -> dict[str, str]:
    """`base` (default: this process's environment) plus the toolchain's settings.

    `backend` replaces the state folder (ephemeral stacks of tests and renders);
    `docker_host` and `passphrase` are set when given.
    """
    env = dict(os.environ if base is None else base)
    settings = read_env_file()
    env.update(settings)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([settings["PLEXICA_TOOLS_BIN"], venv_bin, env.get("PATH", "")])
    if backend is not None:
        env["PULUMI_BACKEND_URL"] = backend.resolve().as_uri()
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    if passphrase is not None:
        env["PULUMI_CONFIG_PASSPHRASE"] = passphrase
    Path(env["PULUMI_HOME"]).mkdir(parents=True, exist_ok=True)
    backend_url = env["PULUMI_BACKEND_URL"]
    if backend_url.startswith("file://"):
        Path(backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    return env


def pulumi_command() -> auto.PulumiCommand:
    """The CLI in `.tools/bin` for the Automation API; one clear line when it is not built."""
    if not (TOOLS_BIN / "pulumi").is_file():
        raise LocalEnvError(f"{TOOLS_BIN / 'pulumi'} is missing: run `make setup` to build the Pulumi toolchain")
    return auto.PulumiCommand(root=str(TOOLS_BIN.parent), skip_version_check=True)
