"""An ephemeral copy of the Pulumi project, driven through the Automation API.

Each `EphemeralProject` is a throwaway work dir holding this repo's `Pulumi.yaml`
(pointing at the repo's `.venv`), `__main__.py` and a copy of `plugins/`, a file
backend of its own, its own Core API emulator and its own Docker network. The
real Pulumi engine, the real providers, dockerd and the emulator run; nothing is
mocked. Tests mutate the manifests in the copy, never the repo's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from pulumi import automation as auto

from plexica_infra.localenv import LocalEnvError, build_plugin_images, pulumi_command, pulumi_env
from tests._docker import DockerCLI
from tests._emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
STATE_DIR = REPO / ".state"
PASSPHRASE = "e2e-ephemeral-passphrase"
SECRETS = {
    "coreApiToken": None,  # filled with the emulator's token
    "databaseUrl": "postgresql://plexica:e2e-db-password-c0ffee@postgres:5432/plexica",
    "redisUrl": "redis://:e2e-redis-password-beef@redis:6379",
    "jwtSecret": "e2e-jwt-secret-deadbeef-0123456789",
}
MANAGED_LABEL = "plexica.managed-by=plexica-infra"
#: Every e2e update and preview runs the policy pack with the local stack's settings.
POLICY: dict[str, Any] = {
    "policy_packs": [str(REPO / "policy")],
    "policy_pack_configs": [str(REPO / "policy/config/local.json")],
}


def require_toolchain() -> auto.PulumiCommand:
    try:
        return pulumi_command()
    except LocalEnvError as exc:
        raise AssertionError(str(exc)) from None


@dataclass
class EphemeralProject:
    root: Path
    emulator: Emulator
    docker: DockerCLI
    stack_name: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:8]}")
    network: str = field(default_factory=lambda: f"plexica-e2e-{uuid.uuid4().hex[:8]}")
    _stack: auto.Stack | None = None

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    # -- set-up ---------------------------------------------------------------------------
    def create(self) -> auto.Stack:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
        settings["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
        (self.root / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
        shutil.copy(REPO / "__main__.py", self.root / "__main__.py")
        shutil.copytree(REPO / "plugins", self.plugins_dir, dirs_exist_ok=True)
        # The project's one Pulumi environment (tools/pulumi.env) with a backend of its own.
        env = pulumi_env(backend=self.root / "backend", docker_host=self.docker.host, passphrase=PASSPHRASE)
        stack = auto.create_stack(
            self.stack_name,
            work_dir=str(self.root),
            opts=auto.LocalWorkspaceOptions(env_vars=env, pulumi_command=require_toolchain()),
        )
        docker_settings = {
            "network": self.network,
            "images": "local",
            "registryEndpoints": "host",
            "healthcheckCommand": ["CMD", "/plugin", "healthcheck", "{url}"],
            "healthcheckIntervalSeconds": 2,
        }
        config = {
            "plexica:target": auto.ConfigValue("docker"),
            "plexica:coreApiUrl": auto.ConfigValue(self.emulator.url),
            "plexica:kafkaBrokers": auto.ConfigValue("redpanda:29092"),
            "plexica:docker": auto.ConfigValue(json.dumps(docker_settings)),
        }
        stack.set_all_config(config)
        # Secrets through stdin, as the README tells users: `set_all_config` would put them
        # on `pulumi config set-all`'s command line, readable in /proc/*/cmdline.
        for key, value in self.secrets().items():
            subprocess.run(
                [
                    require_toolchain().command,
                    "config",
                    "set",
                    "--secret",
                    "--stack",
                    self.stack_name,
                    f"plexica:{key}",
                ],
                input=value,
                cwd=self.root,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
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

    def build_images(self) -> None:
        refs = sorted({json.loads(p.read_text())["runtime"]["image"] for p in self.plugins_dir.glob("*/plugin.json")})
        build_plugin_images(refs, docker_host=self.docker.host, state_dir=STATE_DIR)

    # -- operations -----------------------------------------------------------------------
    def up(self, log: list[str] | None = None) -> auto.UpResult:
        self.build_images()
        sink = log if log is not None else []
        return self.stack.up(on_output=sink.append, color="never", **POLICY)

    def preview(self) -> auto.PreviewResult:
        return self.stack.preview(color="never", diff=True, **POLICY)

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

    # -- observations ---------------------------------------------------------------------
    def containers(self, plugin_id: str | None = None, *, all_states: bool = False) -> list[dict[str, Any]]:
        """`docker inspect` of this stack's plugin containers (on this project's network)."""
        args = ["ps", "-q", "--filter", f"label={MANAGED_LABEL}", "--filter", f"network={self.network}"]
        if all_states:
            args.insert(1, "-a")
        if plugin_id is not None:
            args += ["--filter", f"label=plexica.plugin={plugin_id}"]
        ids = self.docker.run(*args).stdout.split()
        return self.docker.inspect(*ids) if ids else []

    def docker_health(self, container_id: str, *, timeout: float = 30.0) -> str:
        """Docker's own health status of a container, once Docker has checked it at least once.

        Our provider's `wait` runs the container's health command itself (through exec), so
        `up` returns before Docker's first scheduled check (one interval; engine 20.10 ignores
        `start_interval`), when Docker still says "starting". Waits, bounded, for that first
        check and returns its verdict.
        """
        deadline = time.monotonic() + timeout
        while True:
            (container,) = self.docker.inspect(container_id)
            status: str = container["State"]["Health"]["Status"]
            if status != "starting" or time.monotonic() > deadline:
                return status
            time.sleep(0.25)

    def core_plugin(self, plugin_id: str) -> dict[str, Any] | None:
        with self.emulator.client() as client:
            response = client.get(f"/api/v1/plugins/{plugin_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def gateway(self, plugin_id: str, path: str = "health/live", *, as_admin: bool = False) -> httpx.Response:
        """A gateway request; `as_admin` sends the admin token, so the answer names the upstream."""
        return httpx.get(
            f"{self.emulator.url}/api/plugins/{plugin_id}/{path}",
            headers=self.admin_headers() if as_admin else {},
            timeout=10.0,
        )

    def admin_headers(self) -> dict[str, str]:
        """The admin token: the gateway then names the upstream (`X-Plexica-Upstream`)."""
        return {"Authorization": f"Bearer {self.emulator.token}"}

    def stored_state(self) -> dict[str, Any]:
        """The checkpoint exactly as the file backend stores it (secrets as ciphertext).

        Not `export_stack()`: the Automation API exports with --show-secrets.
        """
        files = list((self.root / "backend" / ".pulumi" / "stacks").glob(f"*/{self.stack_name}.json"))
        assert len(files) == 1, files
        data: dict[str, Any] = json.loads(files[0].read_text())
        deployment: dict[str, Any] = data["checkpoint"]["latest"]
        return deployment

    def network_exists(self) -> bool:
        return self.docker.run("network", "inspect", self.network, check=False).returncode == 0
