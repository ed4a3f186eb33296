"""`make up` / `make down` / `make preview` through the Pulumi Automation API.

`local_up` brings everything the local stack needs, in order, then runs `up`:

1. a Docker engine (the one at DOCKER_HOST or the default socket, else our own dockerd);
2. the reference plugin image, tagged as every manifest's image (no registry here);
3. the Core API emulator on the stack's `coreApiUrl`, with the stack's own token;
4. `pulumi up`, which deploys, health-gates and registers every plugin.

`local_down` undoes it in reverse: `destroy`, then the emulator, then the dockerd, each
only if we started it. Before every engine run, `stale_runs.recover_stack` clears what a
killed earlier run left (its stack lock, its plugin processes) or says who holds the lock.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import yaml
from pulumi import automation as auto

from plexica_infra.config import (
    CONFIG_NAMESPACE,
    SECRET_KEYS,
    StackConfig,
    stack_config_from_mapping,
    stack_file_values,
)
from plexica_infra.loader import require_plugins
from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.dockerd import ensure_docker, stop_docker
from plexica_infra.localenv.emulator import bridge_address, start_emulator, stop_emulator
from plexica_infra.localenv.engines import find_docker
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.images import build_plugin_images
from plexica_infra.localenv.stack_secrets import set_secret_config
from plexica_infra.localenv.stale_runs import recover_stack
from plexica_infra.localenv.toolchain import REPO, pulumi_command, pulumi_env
from plexica_infra.placement import plugin_image

__all__ = [
    "LOCAL_PASSPHRASE",
    "LOCAL_STACK",
    "PROJECT",
    "RENDER_ONLY_ENV",
    "engine_options",
    "local_down",
    "local_up",
    "open_stack",
    "policy_pack_args",
    "preview",
    "preview_prod",
    "read_stack_file",
]

LOCAL_STACK = "local"
PROJECT = "plexica-infra"
#: Public on purpose: the local stack's secrets are local, throwaway values.
LOCAL_PASSPHRASE = "plexica-local-only"
#: The environment of a render-only stack (the cluster-less prod preview): it applies
#: nothing and lives in a throwaway backend, so its checkpoints protect nothing, while the
#: file backend rewrites the whole checkpoint after every step (each write grows with the
#: state, so a render of n objects costs O(n^2) in writes). Never for a stack that
#: changes real resources: there a killed run needs its checkpoint.
RENDER_ONLY_ENV = {"PULUMI_SKIP_CHECKPOINTS": "true"}
#: Placeholder secrets for the cluster-less prod preview: preview never sends them anywhere.
_PREVIEW_SECRETS = {key: f"preview-placeholder-{key}" for key in SECRET_KEYS}
_T = TypeVar("_T")


def read_stack_file(stack: str, project_dir: Path = REPO) -> StackConfig:
    """The non-secret config of a committed stack file, validated."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    values, _secrets = stack_file_values(path)
    return stack_config_from_mapping(values, source=path.name)


#: Stacks checked with another stack's policy settings: `kube` runs the prod program on the
#: local cluster, so it must pass what prod must pass.
POLICY_CONFIG_OF = {"kube": "prod"}


def _policy_config(stack_name: str, project_dir: Path = REPO) -> Path | None:
    """policy/config/<stack>.json; a render stack (`prod-render`) uses its stack's."""
    name = stack_name.removesuffix("-render")
    config = project_dir / "policy" / "config" / f"{POLICY_CONFIG_OF.get(name, name)}.json"
    return config if config.is_file() else None


def policy_pack_args(stack_name: str, project_dir: Path = REPO) -> list[str]:
    """The policy pack as `pulumi` CLI flags: the guide's rules (policy/), with the stack's
    settings from policy/config/<stack>.json when the stack has one."""
    config = _policy_config(stack_name, project_dir)
    return ["--policy-pack", str(project_dir / "policy"), *(["--policy-pack-config", str(config)] if config else [])]


def engine_options(stack_name: str) -> dict[str, Any]:
    """Extra options for every `preview` and `up` of `stack_name`: the policy pack.

    The one place to add engine arguments: each key is a keyword argument of the
    Automation API's `Stack.preview`/`Stack.up`.
    """
    config = _policy_config(stack_name)
    options: dict[str, Any] = {"policy_packs": [str(REPO / "policy")]}
    if config is not None:
        options["policy_pack_configs"] = [str(config)]
    return options


def open_stack(stack_name: str, env: dict[str, str], *, work_dir: Path = REPO) -> auto.Stack:
    """Select (creating if needed) `stack_name` of the project in `work_dir`."""
    return _engine(
        f"select stack {stack_name}",
        lambda: auto.create_or_select_stack(
            stack_name,
            work_dir=str(work_dir),
            opts=auto.LocalWorkspaceOptions(env_vars=env, pulumi_command=pulumi_command()),
        ),
    )


def _engine(what: str, call: Callable[[], _T]) -> _T:
    """Run one Automation API call; a failure becomes one LocalEnvError line."""
    try:
        return call()
    except auto.CommandError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        detail = (errors or lines or ["no output"])[-1]
        raise LocalEnvError(f"`pulumi {what}` failed: {detail}") from None


def _echo(line: str) -> None:
    print(line, end="" if line.endswith("\n") else "\n", flush=True)


def _recover(stack_name: str, env: dict[str, str], say: Progress) -> None:
    recover_stack(env["PULUMI_BACKEND_URL"], PROJECT, stack_name, progress=say)


def _token(stack: auto.Stack) -> str:
    return _engine("config get", lambda: stack.get_config(f"{CONFIG_NAMESPACE}:coreApiToken")).value.strip()


def _container_side_addresses(config: StackConfig) -> list[str]:
    """Where plugin containers reach the emulator: the bridge address when the stack maps a
    name to `host-gateway` (Pulumi.local.yaml: host.docker.internal), else nowhere more."""
    if "host-gateway" not in config.docker.extra_hosts.values():
        return []
    address = bridge_address()
    if address is None:
        raise LocalEnvError(
            "the stack maps a host name to host-gateway, but this host has no docker0 bridge address; "
            "plugins could not reach the Core API emulator"
        )
    return [address]


def local_up(state_dir: Path, *, progress: Progress | None = None) -> int:
    say = progress or default_progress
    config = read_stack_file(LOCAL_STACK)
    plugins = require_plugins(REPO / "plugins", allow_latest=config.allow_latest_tag)
    say(f"[1/4] Docker engine (plugins: {', '.join(p.id for p in plugins)})")
    docker_host = config.docker.host or ensure_docker(state_dir, progress=say)
    env = pulumi_env(docker_host=docker_host, passphrase=LOCAL_PASSPHRASE)
    _recover(LOCAL_STACK, env, say)
    stack = open_stack(LOCAL_STACK, env)
    if config.docker.images == "local":
        refs = sorted({plugin_image(p.manifest, config) for p in plugins})
        say(f"[2/4] plugin images: {', '.join(refs)}")
        build_plugin_images(refs, docker_host=docker_host, state_dir=state_dir, progress=say)
    else:
        say("[2/4] plugin images: pulled by reference (docker.images is 'pull')")
    say(f"[3/4] Core API emulator at {config.core_api_url}")
    _start_local_emulator(state_dir, config, stack, say)
    say("[4/4] pulumi up --stack local")
    _engine("up --stack local", lambda: stack.up(on_output=_echo, color="auto", **engine_options(LOCAL_STACK)))
    ids = [p.id for p in plugins]
    lines = [
        "",
        "Every plugin is deployed, health-gated and ACTIVE. Where to look:",
        f"  gateway:      {config.core_api_url}/api/plugins/<id>/health/live   ({', '.join(ids)})",
        f"  Core API:     curl -H 'Authorization: Bearer <token>' {config.core_api_url}/api/v1/plugins",
        "                (token: `. tools/env.sh && PULUMI_CONFIG_PASSPHRASE=plexica-local-only "
        "pulumi config get plexica:coreApiToken --stack local`)",
        f"  containers:   DOCKER_HOST={docker_host} docker ps --filter label=plexica.managed-by=plexica-infra",
        "  stack:        make preview   |   pulumi stack output --stack local (after `. tools/env.sh`)",
        "  tear down:    make down",
    ]
    print("\n".join(lines))
    return 0


def _start_local_emulator(state_dir: Path, config: StackConfig, stack: auto.Stack, say: Progress) -> None:
    """The local stack's emulator on its `coreApiUrl`, with the stack's token, also on docker0."""
    url = urlparse(config.core_api_url)
    start_emulator(
        state_dir,
        host=url.hostname or "127.0.0.1",
        port=url.port or 80,
        token=_token(stack),
        progress=say,
        also_listen=_container_side_addresses(config),
    )


def local_down(state_dir: Path, *, progress: Progress | None = None) -> int:
    say = progress or default_progress
    config = read_stack_file(LOCAL_STACK)
    docker_host = config.docker.host or find_docker(state_dir)
    env = pulumi_env(docker_host=docker_host, passphrase=LOCAL_PASSPHRASE)
    if (REPO / ".tools" / "bin" / "pulumi").is_file() and _stack_exists(LOCAL_STACK, env):
        if docker_host is None:
            raise LocalEnvError(
                "no Docker engine answers, so the local stack's containers cannot be removed; "
                "run `python -m plexica_infra.localenv docker-up` and retry `make down`"
            )
        _recover(LOCAL_STACK, env, say)
        stack = open_stack(LOCAL_STACK, env)
        _start_local_emulator(state_dir, config, stack, say)
        say("[1/3] pulumi destroy --stack local")
        _engine("destroy --stack local", lambda: stack.destroy(on_output=_echo, color="auto"))
    else:
        say("[1/3] the local stack has never been deployed here; nothing to destroy")
    say("[2/3] Core API emulator")
    stop_emulator(state_dir, progress=say)
    say("[3/3] Docker engine (only a dockerd that `make up` started)")
    stop_docker(state_dir, progress=say)
    print("Local stack removed: no plugin container, network, registration, emulator or dockerd of ours is left.")
    return 0


def _stack_exists(stack_name: str, env: dict[str, str]) -> bool:
    workspace = auto.LocalWorkspace(work_dir=str(REPO), env_vars=env, pulumi_command=pulumi_command())
    return any(summary.name == stack_name for summary in _engine("stack ls", workspace.list_stacks))


def preview(state_dir: Path, stack_name: str, *, progress: Progress | None = None) -> int:
    """`pulumi preview --diff` of a committed stack with the offline toolchain.

    The local stack uses its documented passphrase and the engine `make up` started;
    any other stack needs PULUMI_CONFIG_PASSPHRASE (its secrets are real).
    """
    say = progress or default_progress
    config = read_stack_file(stack_name)
    passphrase = LOCAL_PASSPHRASE if stack_name == LOCAL_STACK else None
    env = pulumi_env(passphrase=passphrase)
    if "PULUMI_CONFIG_PASSPHRASE" not in env:
        raise LocalEnvError(
            f"stack {stack_name!r} needs its passphrase: export PULUMI_CONFIG_PASSPHRASE=... and run again"
        )
    docker_host = config.docker.host or (find_docker(state_dir) if config.target == "docker" else None)
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    _recover(stack_name, env, say)
    stack = open_stack(stack_name, env)
    say(f"pulumi preview --stack {stack_name}")
    _engine(
        f"preview --stack {stack_name}",
        lambda: stack.preview(on_output=_echo, color="auto", diff=True, **engine_options(stack_name)),
    )
    return 0


def project_copy(work_dir: Path) -> Path:
    """This project (Pulumi.yaml pointing at this .venv, __main__.py, plugins/) in `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    settings["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
    (work_dir / "Pulumi.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    shutil.copy(REPO / "__main__.py", work_dir / "__main__.py")
    shutil.copytree(REPO / "plugins", work_dir / "plugins", dirs_exist_ok=True)
    return work_dir


def preview_prod(state_dir: Path, *, out_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """`pulumi preview` of the prod stack's program with no cluster: render YAML instead of applying.

    Runs an ephemeral `prod-render` stack of a copy of the project in a throwaway
    backend, with prod's config, `kubernetes.renderYamlTo` set and placeholder secrets,
    then `up` on that stack to write the YAML (a render stack applies nothing and
    registers nothing with the Core API). Returns the render directory.
    """
    say = progress or default_progress
    out = (out_dir or state_dir / "render" / "prod").resolve()
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="plexica-prod-render-") as tmp:
        work_dir = project_copy(Path(tmp) / "project")
        env = {**pulumi_env(backend=Path(tmp) / "backend", passphrase="prod-render-ephemeral"), **RENDER_ONLY_ENV}
        document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text(encoding="utf-8")) or {}
        document.setdefault("config", {})
        kube = dict(document["config"].get(f"{CONFIG_NAMESPACE}:kubernetes") or {})
        kube["renderYamlTo"] = str(out)
        document["config"][f"{CONFIG_NAMESPACE}:kubernetes"] = kube
        (work_dir / "Pulumi.prod-render.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
        stack = open_stack("prod-render", env, work_dir=work_dir)
        set_secret_config(
            pulumi_command().command,
            stack="prod-render",
            work_dir=work_dir,
            env=env,
            values={f"{CONFIG_NAMESPACE}:{k}": v for k, v in _PREVIEW_SECRETS.items()},
        )
        say("pulumi preview of the prod program (no cluster)")
        _engine(
            "preview --stack prod-render",
            lambda: stack.preview(on_output=_echo, color="auto", diff=True, **engine_options("prod-render")),
        )
        say(f"rendering the same resources as Kubernetes YAML to {out}")
        _engine(
            "up --stack prod-render",
            lambda: stack.up(on_output=_echo, color="auto", suppress_outputs=True, **engine_options("prod-render")),
        )
    return out
