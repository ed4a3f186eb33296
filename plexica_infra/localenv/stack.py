"""`make up` / `make down` for the `local` stack, and the cluster-less prod preview.

`local_up` brings everything the local stack needs, in order, then runs
`pulumi up --stack local`:

1. a Docker engine (the one at DOCKER_HOST or the default socket, else our own dockerd);
2. the reference plugin image, tagged as every manifest's image (no registry here);
3. the Core API emulator on the stack's `coreApiUrl`, with the stack's own token;
4. `pulumi up`, which deploys, health-gates and registers every plugin.

`local_down` undoes it in reverse: `pulumi destroy`, then the emulator, then the
dockerd, each only if we started it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse

import yaml

from plexica_infra.config import (
    CONFIG_NAMESPACE,
    SECRET_KEYS,
    StackConfig,
    stack_config_from_mapping,
    stack_file_values,
)
from plexica_infra.loader import require_plugins
from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.docker import ensure_docker, find_docker, stop_docker
from plexica_infra.localenv.emulator import start_emulator, stop_emulator
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.images import build_plugin_images
from plexica_infra.placement import plugin_image

__all__ = [
    "LOCAL_PASSPHRASE",
    "LOCAL_STACK",
    "RENDER_ONLY_ENV",
    "local_down",
    "local_up",
    "preview",
    "preview_prod",
    "pulumi_env",
    "read_stack_file",
]

LOCAL_STACK = "local"
#: Public on purpose: the local stack's secrets are local, throwaway values.
LOCAL_PASSPHRASE = "plexica-local-only"
REPO = Path(__file__).resolve().parents[2]
#: The environment of a render-only stack (the cluster-less prod preview): it applies
#: nothing and lives in a throwaway backend, so its checkpoints protect nothing, while the
#: file backend rewrites the whole checkpoint after every step (each write grows with the
#: state, so a render of n objects costs O(n^2) in writes). Never for a stack that
#: changes real resources: there a killed run needs its checkpoint.
RENDER_ONLY_ENV = {"PULUMI_SKIP_CHECKPOINTS": "true"}
#: Placeholder secrets for the cluster-less prod preview: preview never sends them anywhere.
_PREVIEW_SECRETS = {key: f"preview-placeholder-{key}" for key in SECRET_KEYS}


def read_stack_file(stack: str, project_dir: Path = REPO) -> StackConfig:
    """The non-secret config of a committed stack file, validated."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    values, _secrets = stack_file_values(path)
    return stack_config_from_mapping(values, source=path.name)


def pulumi_env(state_dir: Path, *, docker_host: str | None = None, backend: Path | None = None) -> dict[str, str]:
    """The offline Pulumi environment: our toolchain first on PATH, state under .state/."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(REPO / ".tools" / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PULUMI_HOME", str(state_dir / "pulumi-home"))
    env["PULUMI_BACKEND_URL"] = f"file://{backend or state_dir / 'backend'}"
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", LOCAL_PASSPHRASE)
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    Path(env["PULUMI_HOME"]).mkdir(parents=True, exist_ok=True)
    (backend or state_dir / "backend").mkdir(parents=True, exist_ok=True)
    return env


def _pulumi(args: Sequence[str], env: Mapping[str, str], *, capture: bool = False) -> str:
    binary = shutil.which("pulumi", path=env["PATH"])
    if binary is None:
        raise LocalEnvError("the Pulumi CLI is not built yet; run `make setup` first")
    result = subprocess.run([binary, *args], cwd=REPO, env=dict(env), text=True, capture_output=capture, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise LocalEnvError(
            f"`pulumi {' '.join(args[:2])}` failed (exit {result.returncode}){': ' + detail[0] if detail else ''}"
        )
    return result.stdout or ""


def _select_stack(stack: str, env: Mapping[str, str]) -> None:
    _pulumi(["stack", "select", "--create", stack, "--non-interactive"], env, capture=True)


def local_up(state_dir: Path, *, progress: Progress | None = None, yes: bool = True) -> int:
    say = progress or default_progress
    stack = read_stack_file(LOCAL_STACK)
    plugins = require_plugins(REPO / "plugins", allow_latest=stack.allow_latest_tag)
    say(f"[1/4] Docker engine (plugins: {', '.join(p.id for p in plugins)})")
    docker_host = stack.docker.host or ensure_docker(state_dir, progress=say)
    env = pulumi_env(state_dir, docker_host=docker_host)
    _select_stack(LOCAL_STACK, env)
    if stack.docker.images == "local":
        refs = sorted({plugin_image(p.manifest, stack) for p in plugins})
        say(f"[2/4] plugin images: {', '.join(refs)}")
        build_plugin_images(refs, docker_host=docker_host, state_dir=state_dir, progress=say)
    else:
        say("[2/4] plugin images: pulled by reference (docker.images is 'pull')")
    url = urlparse(stack.core_api_url)
    say(f"[3/4] Core API emulator at {stack.core_api_url}")
    token = _pulumi(["config", "get", f"{CONFIG_NAMESPACE}:coreApiToken", "--stack", LOCAL_STACK], env, capture=True)
    start_emulator(state_dir, host=url.hostname or "127.0.0.1", port=url.port or 80, token=token.strip(), progress=say)
    say("[4/4] pulumi up --stack local")
    _pulumi(["up", "--stack", LOCAL_STACK, "--skip-preview" if yes else "--diff", *(["--yes"] if yes else [])], env)
    ids = [p.id for p in plugins]
    lines = [
        "",
        "Every plugin is deployed, health-gated and ACTIVE. Where to look:",
        f"  gateway:      {stack.core_api_url}/api/plugins/<id>/health/live   ({', '.join(ids)})",
        f"  Core API:     curl -H 'Authorization: Bearer <token>' {stack.core_api_url}/api/v1/plugins",
        "                (token: `. tools/env.sh && PULUMI_CONFIG_PASSPHRASE=plexica-local-only "
        "pulumi config get plexica:coreApiToken --stack local`)",
        f"  containers:   DOCKER_HOST={docker_host} docker ps --filter label=plexica.managed-by=plexica-infra",
        "  stack:        make preview   |   pulumi stack output --stack local (after `. tools/env.sh`)",
        "  tear down:    make down",
    ]
    print("\n".join(lines))
    return 0


def local_down(state_dir: Path, *, progress: Progress | None = None) -> int:
    say = progress or default_progress
    stack = read_stack_file(LOCAL_STACK)
    docker_host = stack.docker.host or find_docker(state_dir)
    emulator_url = stack.core_api_url
    env = pulumi_env(state_dir, docker_host=docker_host)
    listing = (
        _pulumi(["stack", "ls", "--json"], env, capture=True) if shutil.which("pulumi", path=env["PATH"]) else "[]"
    )
    if any(entry.get("name") == LOCAL_STACK for entry in json.loads(listing or "[]")):
        if docker_host is None:
            raise LocalEnvError(
                "no Docker engine answers, so the local stack's containers cannot be removed; "
                "run `python -m plexica_infra.localenv docker-up` and retry `make down`"
            )
        url = urlparse(emulator_url)
        token = _pulumi(
            ["config", "get", f"{CONFIG_NAMESPACE}:coreApiToken", "--stack", LOCAL_STACK], env, capture=True
        )
        start_emulator(
            state_dir, host=url.hostname or "127.0.0.1", port=url.port or 80, token=token.strip(), progress=say
        )
        say("[1/3] pulumi destroy --stack local")
        _pulumi(["destroy", "--stack", LOCAL_STACK, "--yes", "--skip-preview"], env)
    else:
        say("[1/3] the local stack has never been deployed here; nothing to destroy")
    say("[2/3] Core API emulator")
    stop_emulator(state_dir, progress=say)
    say("[3/3] Docker engine (only a dockerd that `make up` started)")
    stop_docker(state_dir, progress=say)
    print("Local stack removed: no plugin container, network, registration, emulator or dockerd of ours is left.")
    return 0


def preview(state_dir: Path, stack_name: str, *, progress: Progress | None = None) -> int:
    """`pulumi preview --diff` of a committed stack with the offline toolchain.

    The local stack uses its documented passphrase and the engine `make up` started;
    any other stack needs PULUMI_CONFIG_PASSPHRASE (its secrets are real).
    """
    say = progress or default_progress
    stack = read_stack_file(stack_name)
    if stack_name != LOCAL_STACK and "PULUMI_CONFIG_PASSPHRASE" not in os.environ:
        raise LocalEnvError(
            f"stack {stack_name!r} needs its passphrase: export PULUMI_CONFIG_PASSPHRASE=... and run again"
        )
    docker_host = stack.docker.host or (find_docker(state_dir) if stack.target == "docker" else None)
    env = pulumi_env(state_dir, docker_host=docker_host)
    _select_stack(stack_name, env)
    say(f"pulumi preview --stack {stack_name}")
    _pulumi(["preview", "--stack", stack_name, "--diff"], env)
    return 0


def preview_prod(state_dir: Path, *, out_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """`pulumi preview` of the prod stack's program with no cluster: render YAML instead of applying.

    Runs an ephemeral `prod-render` stack in a throwaway backend, with prod's config,
    `kubernetes.renderYamlTo` set and placeholder secrets, then `up` on that stack to
    write the YAML (a render stack applies nothing and registers nothing with the
    Core API). Returns the render directory.
    """
    say = progress or default_progress
    out = (out_dir or state_dir / "render" / "prod").resolve()
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="plexica-prod-render-") as tmp:
        backend = Path(tmp) / "backend"
        env = pulumi_env(state_dir, backend=backend)
        env["PULUMI_CONFIG_PASSPHRASE"] = "prod-render-ephemeral"
        env.update(RENDER_ONLY_ENV)
        config_file = Path(tmp) / "Pulumi.prod-render.yaml"
        document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8")) or {}
        document.setdefault("config", {})
        kube = dict(document["config"].get(f"{CONFIG_NAMESPACE}:kubernetes") or {})
        kube["renderYamlTo"] = str(out)
        document["config"][f"{CONFIG_NAMESPACE}:kubernetes"] = kube
        config_file.write_text(yaml.safe_dump(document), encoding="utf-8")
        common = ["--stack", "prod-render", "--config-file", str(config_file)]
        try:
            _pulumi(["stack", "init", "prod-render", "--non-interactive"], env, capture=True)
            for key, value in _PREVIEW_SECRETS.items():
                _pulumi(["config", "set", "--secret", f"{CONFIG_NAMESPACE}:{key}", value, *common], env, capture=True)
            say("pulumi preview of the prod program (no cluster)")
            _pulumi(["preview", *common, "--diff"], env)
            say(f"rendering the same resources as Kubernetes YAML to {out}")
            _pulumi(["up", *common, "--yes", "--skip-preview", "--suppress-outputs"], env)
        finally:
            (REPO / "Pulumi.prod-render.yaml").unlink(missing_ok=True)
    return out
