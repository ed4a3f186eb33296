"""The ephemeral Docker stack of the e2e tests: the package's `EphemeralProject`
(`plexica_infra.localenv.ephemeral_docker`, shared with the benchmarks) plus the tests' docker
CLI as `project.docker`. The moved names are re-exported for the tests that import them here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plexica_infra.localenv.emulator_process import Emulator
from plexica_infra.localenv.ephemeral import PASSPHRASE, SECRETS, STATE_DIR, EphemeralStack, require_toolchain
from plexica_infra.localenv.ephemeral_docker import MANAGED_LABEL, endpoint, set_version
from plexica_infra.localenv.ephemeral_docker import EphemeralProject as _EphemeralProject
from plexica_infra.localenv.toolchain import REPO
from tests._docker import DockerCLI

__all__ = [
    "MANAGED_LABEL",
    "PASSPHRASE",
    "REPO",
    "SECRETS",
    "STATE_DIR",
    "EphemeralProject",
    "EphemeralStack",
    "endpoint",
    "require_toolchain",
    "set_version",
]


class EphemeralProject(_EphemeralProject):
    """The package's ephemeral Docker stack, bound to the tests' `DockerCLI` (`project.docker`)."""

    def __init__(self, root: Path, emulator: Emulator, docker: DockerCLI, **kwargs: Any) -> None:
        super().__init__(root, emulator, docker_host=docker.host, **kwargs)
        self.docker = docker
