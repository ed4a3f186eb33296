"""Throwaway copies of this Pulumi project, driven through the Automation API.

`EphemeralStack` (here) is target-neutral: a temporary work dir holding the repo's
`Pulumi.yaml` (pointing at the repo's `.venv`), `__main__.py` and a copy of `plugins/`, a
file backend and a passphrase of its own, secrets set through stdin (never argv), a Core
API emulator, and up/preview/refresh/destroy with the policy pack. `EphemeralProject`
(`ephemeral_docker.py`) is the Docker stack of that shape. The e2e tests and the
benchmarks use them; nothing is mocked: the real engine, providers, dockerd and emulator
run. Callers mutate the manifests in the copy, never the repo's.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import yaml
from pulumi import automation as auto

from plexica_infra.localenv.emulator_process import Emulator
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.stack import engine_options
from plexica_infra.localenv.stack_secrets import set_secret_config
from plexica_infra.localenv.toolchain import REPO, pulumi_command, pulumi_env

__all__ = [
    "PASSPHRASE",
    "SECRETS",
    "STATE_DIR",
    "EphemeralStack",
    "require_toolchain",
]

STATE_DIR = REPO / ".state"
PASSPHRASE = "e2e-ephemeral-passphrase"
#: The stack secrets; None is filled with the emulator's token.
SECRETS: Mapping[str, str | None] = {
    "coreApiToken": None,
    "databaseUrl": "postgresql://plexica:e2e-db-password-c0ffee@postgres:5432/plexica",
    "redisUrl": "redis://:e2e-redis-password-beef@redis:6379",
    "jwtSecret": "e2e-jwt-secret-deadbeef-0123456789",
}


def require_toolchain() -> auto.PulumiCommand:
    """The toolchain's CLI; an AssertionError (one line) when `make setup` has not built it."""
    try:
        return pulumi_command()
    except LocalEnvError as exc:
        raise AssertionError(str(exc)) from None


@dataclass
class EphemeralStack:
    """A stack of this project in `root`, with a backend and passphrase of its own.

    Subclasses say what the stack targets: `stack_config()` (non-secret config),
    `environment()` (the engine's environment) and `build_images()`.
    """

    root: Path
    emulator: Emulator
    stack_name: str = ""
    _stack: auto.Stack | None = None

    #: Stack names start with this; the policy pack runs with policy/config/<POLICY_STACK>.json.
    STACK_PREFIX: ClassVar[str] = "e2e"
    POLICY_STACK: ClassVar[str] = "local"
    PASSPHRASE: ClassVar[str] = PASSPHRASE
    SECRETS: ClassVar[Mapping[str, str | None]] = SECRETS

    def __post_init__(self) -> None:
        if not self.stack_name:
            self.stack_name = f"{self.STACK_PREFIX}-{uuid.uuid4().hex[:8]}"

    # -- what a subclass decides ------------------------------------------------------------
    def stack_config(self) -> dict[str, auto.ConfigValue]:
        """Non-secret `plexica:*` config of the stack (secrets come from `secrets()`)."""
        return {"plexica:coreApiUrl": auto.ConfigValue(self.emulator.url)}

    def environment(self) -> dict[str, str]:
        """The project's one Pulumi environment (tools/pulumi.env) with this stack's backend."""
        return pulumi_env(backend=self.root / "backend", passphrase=self.PASSPHRASE)

    def build_images(self) -> None:
        """Make the images the stack's manifests name available; runs before every `up`."""

    # -- set-up -------------------------------------------------------------------------------
    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    def write_project(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
        settings["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        (self.root / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
        shutil.copy(REPO / "__main__.py", self.root / "__main__.py")
        shutil.copytree(REPO / "plugins", self.plugins_dir, dirs_exist_ok=True)

    def create(self) -> auto.Stack:
        self.write_project()
        env = self.environment()
        stack = auto.create_stack(
            self.stack_name,
            work_dir=str(self.root),
            opts=auto.LocalWorkspaceOptions(env_vars=env, pulumi_command=require_toolchain()),
        )
        stack.set_all_config(self.stack_config())
        self._stack = stack
        for key, value in self.secrets().items():
            self.set_secret(key, value)
        return stack

    def set_secret(self, key: str, value: str) -> None:
        """One stack secret through stdin (`localenv.stack_secrets`), never on a command line."""
        set_secret_config(
            require_toolchain().command,
            stack=self.stack_name,
            work_dir=self.root,
            env=self.environment(),
            values={f"plexica:{key}": value},
        )

    def secrets(self) -> dict[str, str]:
        return {key: (value if value is not None else self.emulator.token) for key, value in self.SECRETS.items()}

    @property
    def stack(self) -> auto.Stack:
        assert self._stack is not None, "call create() first"
        return self._stack

    # -- manifests ----------------------------------------------------------------------------
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

    # -- operations ---------------------------------------------------------------------------
    def policy(self) -> dict[str, Any]:
        """Every update and preview runs the policy pack with POLICY_STACK's settings."""
        return engine_options(self.POLICY_STACK)

    def up(self, log: list[str] | None = None) -> auto.UpResult:
        self.build_images()
        sink = log if log is not None else []
        return self.stack.up(on_output=sink.append, color="never", **self.policy())

    def preview(self) -> auto.PreviewResult:
        return self.stack.preview(color="never", diff=True, **self.policy())

    def refresh(self) -> auto.RefreshResult:
        return self.stack.refresh(color="never")

    def destroy(self) -> None:
        self.stack.destroy(color="never")

    def remove(self) -> None:
        """Best-effort teardown for fixtures: destroy, then drop the stack."""
        if self._stack is None:
            return
        try:
            self.destroy()
        finally:
            self._stack.workspace.remove_stack(self.stack_name, force=True)

    # -- observations -------------------------------------------------------------------------
    def core_plugin(self, plugin_id: str) -> dict[str, Any] | None:
        with self.emulator.client() as client:
            response = client.get(f"/api/v1/plugins/{plugin_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def admin_headers(self) -> dict[str, str]:
        """The admin token: the gateway then names the upstream (`X-Plexica-Upstream`)."""
        return {"Authorization": f"Bearer {self.emulator.token}"}

    def gateway_url(self, plugin_id: str, path: str = "health/live") -> str:
        return f"{self.emulator.url}/api/plugins/{plugin_id}/{path}"

    def gateway(self, plugin_id: str, path: str = "health/live", *, as_admin: bool = False) -> httpx.Response:
        """A gateway request; `as_admin` sends the admin token, so the answer names the upstream."""
        return httpx.get(
            self.gateway_url(plugin_id, path), headers=self.admin_headers() if as_admin else {}, timeout=10.0
        )

    def stored_state(self) -> dict[str, Any]:
        """The checkpoint exactly as the file backend stores it (secrets as ciphertext).

        Not `export_stack()`: the Automation API exports with --show-secrets.
        """
        files = list((self.root / "backend" / ".pulumi" / "stacks").glob(f"*/{self.stack_name}.json"))
        assert len(files) == 1, files
        data: dict[str, Any] = json.loads(files[0].read_text())
        deployment: dict[str, Any] = data["checkpoint"]["latest"]
        return deployment
