"""An ephemeral copy of the Pulumi project on the local cluster, through the Automation API.

Used by the Kubernetes end-to-end tests (`tests/kube/`) and `bench/bench_kube.py`. Like
the Docker stacks' ephemeral project, but the stack targets Kubernetes: the prod program
as it is, in a namespace of its own (`plexica-e2e-<hex>`), against the local
cluster's API server, registering with a Core API emulator on this host that
reaches plugins by ClusterIP. Observations go through the API server (lightkube),
never through our own renderer.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from lightkube import Client, KubeConfig
from lightkube.core.exceptions import ApiError
from pulumi import automation as auto

from plexica_infra.localenv.cluster import cluster_up
from plexica_infra.localenv.emulator_process import Emulator
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.stack import engine_options
from plexica_infra.localenv.stack_secrets import set_secret_config
from plexica_infra.localenv.toolchain import REPO, pulumi_command, pulumi_env

#: The repository's state dir: the cluster is machine-wide and lives there.
STATE_DIR = REPO / ".state"
PASSPHRASE = "kube-e2e-ephemeral-passphrase"
SECRETS = {
    "coreApiToken": None,  # filled with the emulator's token
    "databaseUrl": "postgresql://plexica:kube-db-password-5ec2e7@postgres:5432/plexica",
    "redisUrl": "redis://:kube-redis-password-a11ce@redis:6379",
    "jwtSecret": "kube-jwt-secret-0b5c0de-42",
}
#: The policy pack with prod's settings, as `make up STACK=kube` runs it.
POLICY = engine_options("kube")
#: Small requests, so that two plugins x 2 replicas + a surge pod fit a 2-core node.
SMALL_REQUESTS = {"cpu": "50m", "memory": "32Mi"}


def require_toolchain() -> auto.PulumiCommand:
    try:
        return pulumi_command()
    except LocalEnvError as exc:
        raise AssertionError(str(exc)) from None


@dataclass
class KubeProject:
    root: Path
    emulator: Emulator
    kubeconfig: Path
    deadline_seconds: int = 45
    namespace: str = field(default_factory=lambda: f"plexica-e2e-{uuid.uuid4().hex[:8]}")
    stack_name: str = field(default_factory=lambda: f"kube-e2e-{uuid.uuid4().hex[:8]}")
    _stack: auto.Stack | None = None

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    @property
    def api(self) -> Client:
        return Client(KubeConfig.from_file(str(self.kubeconfig)))

    def create(self) -> auto.Stack:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
        settings["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        (self.root / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
        shutil.copy(REPO / "__main__.py", self.root / "__main__.py")
        shutil.copytree(REPO / "plugins", self.plugins_dir, dirs_exist_ok=True)
        for folder in self.plugins_dir.iterdir():
            self.edit_manifest(folder.name, lambda m: m["runtime"]["resources"].update(requests=dict(SMALL_REQUESTS)))
        # The project's one Pulumi environment (tools/pulumi.env) with a backend of its own.
        env = pulumi_env(backend=self.root / "backend", passphrase=PASSPHRASE)
        (self.root / "backend").mkdir(exist_ok=True)
        stack = auto.create_stack(
            self.stack_name,
            work_dir=str(self.root),
            opts=auto.LocalWorkspaceOptions(env_vars=env, pulumi_command=require_toolchain()),
        )
        prod = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
        kube = dict(prod["plexica:kubernetes"])
        kube.update(
            kubeconfig=str(self.kubeconfig),
            registryEndpoints="cluster-ip",
            progressDeadlineSeconds=self.deadline_seconds,
        )
        config = {
            key: auto.ConfigValue(value if isinstance(value, str) else json.dumps(value))
            for key, value in prod.items()
            if key != "plexica:kubernetes"
        }
        config.update(
            {
                "plexica:namespace": auto.ConfigValue(self.namespace),
                "plexica:coreApiUrl": auto.ConfigValue(self.emulator.url),
                "plexica:kubernetes": auto.ConfigValue(json.dumps(kube)),
            }
        )
        stack.set_all_config(config)
        # Secrets through stdin: `set_all_config` would put them on a command line.
        set_secret_config(
            require_toolchain().command,
            stack=self.stack_name,
            work_dir=self.root,
            env=env,
            values={f"plexica:{key}": value for key, value in self.secrets().items()},
        )
        self._stack = stack
        return stack

    def secrets(self) -> dict[str, str]:
        return {key: (value if value is not None else self.emulator.token) for key, value in SECRETS.items()}

    @property
    def stack(self) -> auto.Stack:
        assert self._stack is not None, "call create() first"
        return self._stack

    # -- manifests ------------------------------------------------------------------------
    def manifest(self, plugin_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.plugins_dir / plugin_id / "plugin.json").read_text())
        return data

    def write_manifest(self, plugin_id: str, data: dict[str, Any]) -> None:
        folder = self.plugins_dir / plugin_id
        folder.mkdir(exist_ok=True)
        (folder / "plugin.json").write_text(json.dumps(data, indent=2))

    def edit_manifest(self, plugin_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        data = self.manifest(plugin_id)
        change(data)
        self.write_manifest(plugin_id, data)
        return data

    def remove_manifest(self, plugin_id: str) -> None:
        shutil.rmtree(self.plugins_dir / plugin_id)

    def import_images(self, extra: tuple[str, ...] = ()) -> None:
        refs = {json.loads(p.read_text())["runtime"]["image"] for p in self.plugins_dir.glob("*/plugin.json")}
        cluster_up(STATE_DIR, plugin_refs=sorted(refs | set(extra)), progress=lambda _m: None)

    # -- operations -----------------------------------------------------------------------
    def up(self, log: list[str] | None = None) -> auto.UpResult:
        self.import_images()
        sink = log if log is not None else []
        return self.stack.up(on_output=sink.append, color="never", **POLICY)

    def up_without_images(self) -> auto.UpResult:
        """`up` without importing the manifests' images first (for an image the node must lack)."""
        return self.stack.up(color="never", **POLICY)

    def preview(self) -> auto.PreviewResult:
        return self.stack.preview(color="never", diff=True, **POLICY)

    def destroy(self) -> None:
        self.stack.destroy(color="never")

    def remove(self) -> None:
        if self._stack is None:
            return
        try:
            self.destroy()
        finally:
            self._stack.workspace.remove_stack(self.stack_name, force=True)
            from lightkube.resources.core_v1 import Namespace

            with contextlib.suppress(ApiError):
                self.api.delete(Namespace, self.namespace)

    # -- observations ---------------------------------------------------------------------
    def get(self, kind: Any, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = self.api.get(kind, name, namespace=self.namespace).to_dict()
            return obj
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise

    def names(self, kind: Any) -> set[str]:
        return {str(o.metadata.name) for o in self.api.list(kind, namespace=self.namespace) if o.metadata}

    def core_plugin(self, plugin_id: str) -> dict[str, Any] | None:
        with self.emulator.client() as client:
            response = client.get(f"/api/v1/plugins/{plugin_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def gateway(self, plugin_id: str, path: str = "health/live") -> httpx.Response:
        return httpx.get(f"{self.emulator.url}/api/plugins/{plugin_id}/{path}", timeout=10.0)

    def stored_state_text(self) -> str:
        files = list((self.root / "backend" / ".pulumi" / "stacks").glob(f"*/{self.stack_name}.json"))
        assert len(files) == 1, files
        return files[0].read_text()
