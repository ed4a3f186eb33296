"""Fixtures for the end-to-end tests: a real dockerd, the emulator and the Pulumi engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._docker import DockerCLI, docker, docker_host  # noqa: F401  (fixtures)
from tests._emulator import Emulator, running_emulator
from tests.e2e._project import EphemeralProject, require_toolchain


@pytest.fixture(scope="module")
def e2e_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with running_emulator(tmp_path_factory.mktemp("e2e-emulator")) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_emulator: Emulator,
    docker: DockerCLI,  # noqa: F811
) -> Iterator[EphemeralProject]:
    require_toolchain()
    root: Path = tmp_path_factory.mktemp("e2e-project")
    project = EphemeralProject(root=root, emulator=e2e_emulator, docker=docker)
    project.create()
    try:
        yield project
    finally:
        project.remove()
