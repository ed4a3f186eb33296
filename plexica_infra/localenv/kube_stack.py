"""`make up STACK=kube` / `make down STACK=kube`: the prod program on the local cluster.

`kube_up` brings, in order:

1. the local Kubernetes cluster (`localenv.cluster`), with the reference plugin
   image imported into its node as every manifest's image;
2. the Core API emulator on the stack's `coreApiUrl` (its own state under
   `<state_dir>/kube/`, so the `local` stack's emulator is left alone);
3. `pulumi up --stack kube`: the same program as prod (Deployments, Services,
   NetworkPolicies, HPAs, PDBs, Secrets, scrape config), rollouts guarded,
   plugins registered through the emulator, which reaches them by ClusterIP;
4. a check through the API server and the Core API: every Deployment fully
   rolled out and every plugin ACTIVE.

`kube_down` destroys the stack (the Core API uninstalls every plugin), stops the
emulator and the cluster, and leaves nothing of ours on the host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from plexica_infra.k8s.names import object_name
from plexica_infra.k8s.provider import kubeconfig_path
from plexica_infra.loader import require_plugins
from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.cluster import cluster_down, cluster_paths, cluster_up
from plexica_infra.localenv.emulator import start_emulator, stop_emulator
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.stack import (
    LOCAL_PASSPHRASE,
    _echo,
    _engine,
    _recover,
    _stack_exists,
    _token,
    engine_options,
    open_stack,
    read_stack_file,
)
from plexica_infra.localenv.toolchain import REPO, TOOLS_BIN, pulumi_env
from plexica_infra.placement import plugin_image

__all__ = ["KUBE_STACK", "kube_down", "kube_up", "verify_kube_stack"]

KUBE_STACK = "kube"


def _emulator_state(state_dir: Path) -> Path:
    return state_dir / "kube"


def _check_kubeconfig(state_dir: Path) -> None:
    stack = read_stack_file(KUBE_STACK)
    configured = kubeconfig_path(stack.kubernetes, REPO)
    actual = cluster_paths(state_dir).admin_kubeconfig
    if configured is None or Path(configured).resolve() != actual.resolve():
        raise LocalEnvError(
            f"Pulumi.{KUBE_STACK}.yaml: plexica:kubernetes.kubeconfig is {configured!r} but the local cluster's "
            f"kubeconfig is {actual}; the kube stack runs with the default state directory (.state)"
        )


def verify_kube_stack(state_dir: Path, token: str) -> dict[str, dict[str, Any]]:
    """Every plugin's Deployment rolled out (API server) and its Core API state; raises when one is not."""
    stack = read_stack_file(KUBE_STACK)
    plugins = require_plugins(REPO / "plugins", allow_latest=stack.allow_latest_tag)
    kubeconfig = cluster_paths(state_dir).admin_kubeconfig
    from lightkube import Client, KubeConfig
    from lightkube.resources.apps_v1 import Deployment

    client = Client(KubeConfig.from_file(str(kubeconfig)))
    report: dict[str, dict[str, Any]] = {}
    problems = []
    with httpx.Client(base_url=stack.core_api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as core:
        for plugin in plugins:
            dep = client.get(Deployment, object_name(plugin.id), namespace=stack.namespace)
            status = dep.status
            ready = (status.availableReplicas or 0) if status else 0
            wanted = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
            answer = core.get(f"/api/v1/plugins/{plugin.id}")
            state = answer.json().get("state") if answer.status_code == 200 else f"HTTP {answer.status_code}"
            report[plugin.id] = {"ready": ready, "replicas": wanted, "core_api": state}
            if ready < wanted or state != "ACTIVE":
                problems.append(f"{plugin.id}: {ready}/{wanted} ready, Core API {state}")
    if problems:
        raise LocalEnvError("the kube stack is not healthy: " + "; ".join(problems))
    return report


def kube_up(state_dir: Path, *, progress: Progress | None = None) -> int:
    say = progress or default_progress
    config = read_stack_file(KUBE_STACK)
    plugins = require_plugins(REPO / "plugins", allow_latest=config.allow_latest_tag)
    _check_kubeconfig(state_dir)
    say(f"[1/4] local Kubernetes cluster (plugins: {', '.join(p.id for p in plugins)})")
    refs = sorted({plugin_image(p.manifest, config) for p in plugins})
    info = cluster_up(state_dir, plugin_refs=refs, progress=say)
    env = pulumi_env(passphrase=LOCAL_PASSPHRASE)
    env["KUBECONFIG"] = str(info.kubeconfig)
    _recover(KUBE_STACK, env, say)
    stack = open_stack(KUBE_STACK, env)
    token = _token(stack)
    say(f"[2/4] Core API emulator at {config.core_api_url}")
    url = urlparse(config.core_api_url)
    start_emulator(
        _emulator_state(state_dir), host=url.hostname or "127.0.0.1", port=url.port or 80, token=token, progress=say
    )
    say(f"[3/4] pulumi up --stack {KUBE_STACK}")
    _engine(f"up --stack {KUBE_STACK}", lambda: stack.up(on_output=_echo, color="auto", **engine_options(KUBE_STACK)))
    say("[4/4] checking every plugin in the API server and the Core API")
    report = verify_kube_stack(state_dir, token)
    for pid, row in report.items():
        say(f"  {pid}: {row['ready']}/{row['replicas']} pods ready, Core API {row['core_api']}")
    print(
        "\n".join(
            [
                "",
                "Every plugin runs on the local cluster and is ACTIVE. Where to look:",
                f"  kubectl:   .tools/bin/kubectl --kubeconfig {info.kubeconfig} -n {config.namespace} get all",
                f"  gateway:   {config.core_api_url}/api/plugins/<id>/health/live   ({', '.join(report)})",
                f"  tear down: make down STACK={KUBE_STACK}",
            ]
        )
    )
    return 0


def kube_down(state_dir: Path, *, progress: Progress | None = None) -> int:
    say = progress or default_progress
    config = read_stack_file(KUBE_STACK)
    env = pulumi_env(passphrase=LOCAL_PASSPHRASE)
    env["KUBECONFIG"] = str(cluster_paths(state_dir).admin_kubeconfig)
    if (TOOLS_BIN / "pulumi").is_file() and _stack_exists(KUBE_STACK, env):
        say(f"[1/3] pulumi destroy --stack {KUBE_STACK} (the cluster must answer: starting it if needed)")
        cluster_up(state_dir, progress=say)
        _recover(KUBE_STACK, env, say)
        stack = open_stack(KUBE_STACK, env)
        url = urlparse(config.core_api_url)
        start_emulator(
            _emulator_state(state_dir),
            host=url.hostname or "127.0.0.1",
            port=url.port or 80,
            token=_token(stack),
            progress=say,
        )
        _engine(f"destroy --stack {KUBE_STACK}", lambda: stack.destroy(on_output=_echo, color="auto"))
    else:
        say(f"[1/3] the {KUBE_STACK} stack has never been deployed here; nothing to destroy")
    say("[2/3] Core API emulator")
    stop_emulator(_emulator_state(state_dir), progress=say)
    say("[3/3] local Kubernetes cluster")
    cluster_down(state_dir, progress=say)
    print("kube stack removed: no pod, process, mount, bridge, network namespace or iptables chain of ours is left.")
    return 0
