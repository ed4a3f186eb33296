"""An ephemeral copy of the Pulumi project on the local cluster, through the Automation API.

Used by the Kubernetes end-to-end tests (`tests/kube/`) and `bench/bench_kube.py`. An
`EphemeralStack` (`ephemeral.py`) whose stack targets Kubernetes: the prod program as
it is, in a namespace of its own (`plexica-e2e-<hex>`), against the local cluster's API
server, with the policy pack on prod's settings, registering with a Core API emulator on
this host that reaches plugins by ClusterIP. Observations go through the API server
(lightkube), never through our own renderer.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from lightkube import Client, KubeConfig
from lightkube.core.exceptions import ApiError
from pulumi import automation as auto

from plexica_infra.localenv.cluster import cluster_up
from plexica_infra.localenv.ephemeral import STATE_DIR, EphemeralStack, require_toolchain
from plexica_infra.localenv.toolchain import REPO

__all__ = ["PASSPHRASE", "SECRETS", "SMALL_REQUESTS", "STATE_DIR", "KubeProject", "require_toolchain"]

PASSPHRASE = "kube-e2e-ephemeral-passphrase"
SECRETS: Mapping[str, str | None] = {
    "coreApiToken": None,  # filled with the emulator's token
    "databaseUrl": "postgresql://plexica:kube-db-password-5ec2e7@postgres:5432/plexica",
    "redisUrl": "redis://:kube-redis-password-a11ce@redis:6379",
    "jwtSecret": "kube-jwt-secret-0b5c0de-42",
}
#: Small requests, so that two plugins x 2 replicas + a surge pod fit a 2-core node.
SMALL_REQUESTS = {"cpu": "50m", "memory": "32Mi"}


@dataclass(kw_only=True)
class KubeProject(EphemeralStack):
    kubeconfig: Path
    deadline_seconds: int = 45
    namespace: str = field(default_factory=lambda: f"plexica-e2e-{uuid.uuid4().hex[:8]}")

    STACK_PREFIX: ClassVar[str] = "kube-e2e"
    #: The policy pack with prod's settings, as `make up STACK=kube` runs it (POLICY_CONFIG_OF).
    POLICY_STACK: ClassVar[str] = "kube"
    PASSPHRASE: ClassVar[str] = PASSPHRASE
    SECRETS: ClassVar[Mapping[str, str | None]] = SECRETS

    @property
    def api(self) -> Client:
        return Client(KubeConfig.from_file(str(self.kubeconfig)))

    def write_project(self) -> None:
        super().write_project()
        for folder in self.plugins_dir.iterdir():
            self.edit_manifest(folder.name, lambda m: m["runtime"]["resources"].update(requests=dict(SMALL_REQUESTS)))

    def stack_config(self) -> dict[str, auto.ConfigValue]:
        """Prod's stack file, in this namespace, on the local cluster, reaching plugins by ClusterIP."""
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
        return config

    def build_images(self) -> None:
        """Import the manifests' images into the node (the cluster pulls from no registry)."""
        self.import_images()

    def import_images(self, extra: tuple[str, ...] = ()) -> None:
        refs = {json.loads(p.read_text())["runtime"]["image"] for p in self.plugins_dir.glob("*/plugin.json")}
        cluster_up(STATE_DIR, plugin_refs=sorted(refs | set(extra)), progress=lambda _m: None)

    def up_without_images(self) -> auto.UpResult:
        """`up` without importing the manifests' images first (for an image the node must lack)."""
        return self.stack.up(color="never", **self.policy())

    def remove(self) -> None:
        try:
            super().remove()
        finally:
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

    def stored_state_text(self) -> str:
        return json.dumps(self.stored_state())
