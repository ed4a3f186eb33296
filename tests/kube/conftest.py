"""Fixtures for the Kubernetes end-to-end tests: the local cluster (session), the
Core API emulator and an ephemeral kube stack (module).

The cluster is machine-wide (fixed loopback ports, one bridge, the host's iptables),
so it runs from the repository's `.state/`: a cluster already running there (e.g.
from `make up STACK=kube`) is reused and left running; one this session started is
stopped at the end (and `test_zz_teardown.py` checks that stopping leaves nothing).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plexica_infra.localenv.cluster import ClusterInfo, cluster_down, cluster_up, missing_prerequisites
from plexica_infra.localenv.ephemeral_kube import STATE_DIR, KubeProject, require_toolchain
from tests._emulator import Emulator, running_emulator


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterInfo]:
    missing = missing_prerequisites()
    assert not missing, f"the local cluster cannot start: {'; '.join(missing)} (run `make setup`)"
    info = cluster_up(STATE_DIR, progress=lambda _m: None)
    try:
        yield info
    finally:
        if info.started:
            cluster_down(STATE_DIR, progress=lambda _m: None)


@pytest.fixture(scope="module")
def kube_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with running_emulator(tmp_path_factory.mktemp("kube-emulator")) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def kube_project(
    tmp_path_factory: pytest.TempPathFactory, cluster: ClusterInfo, kube_emulator: Emulator
) -> Iterator[KubeProject]:
    require_toolchain()
    project = KubeProject(
        root=tmp_path_factory.mktemp("kube-project"), emulator=kube_emulator, kubeconfig=cluster.kubeconfig
    )
    project.create()
    try:
        yield project
    finally:
        project.remove()
