"""Smoke test of the offline Pulumi toolchain that tools/build.sh builds into .tools/bin.

It checks the binaries and their versions, then runs a real `pulumi preview` of
tests/toolchain/smoke_program (one Docker network, one Kubernetes ConfigMap
rendered to YAML) with a file backend in a temporary folder, passphrase
secrets, plugin downloads switched off, no Docker engine and no cluster.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from plexica_infra.localenv.toolchain import pulumi_env

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".tools" / "bin"
BUILD_SH = ROOT / "tools" / "build.sh"
PROGRAM = Path(__file__).resolve().parent / "smoke_program"
VENV = ROOT / ".venv"

BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-docker",
    "pulumi-resource-kubernetes",
    "pulumi-resource-pulumi-python",
)

HOW_TO_FIX = "run `make setup` (or `bash tools/build.sh`) to build the Pulumi toolchain into .tools/bin"


def pinned(name: str) -> str:
    """A version pinned in tools/build.sh, e.g. pinned("PULUMI_VERSION") -> "v3.274.1"."""
    match = re.search(rf'^{name}="([^"]+)"', BUILD_SH.read_text(), re.MULTILINE)
    assert match, f"{name} is not set in {BUILD_SH}"
    return match.group(1)


def require_binaries() -> None:
    missing = [name for name in BINARIES if not (BIN / name).is_file()]
    if missing:
        pytest.fail(f"missing in {BIN}: {', '.join(missing)}; {HOW_TO_FIX}", pytrace=False)


def run(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def test_binaries_exist() -> None:
    require_binaries()
    for name in BINARIES:
        path = BIN / name
        if name.endswith("-exec"):
            continue  # the host runs it with python; it need not be executable
        assert os.access(path, os.X_OK), f"{path} is not executable; {HOW_TO_FIX}"
    # The language host looks for its exec script beside its own resolved path.
    host = (BIN / "pulumi-language-python").resolve()
    assert (host.parent / "pulumi-language-python-exec").is_file()


def test_versions_are_the_pinned_ones() -> None:
    require_binaries()
    cli = run([str(BIN / "pulumi"), "version"])
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == pinned("PULUMI_VERSION")

    host = run([str(BIN / "pulumi-language-python"), "-version"])
    assert host.returncode == 0, host.stderr
    assert host.stdout.strip() == pinned("LANGUAGE_HOST_VERSION")

    docker = run([str(BIN / "pulumi-resource-docker"), "-version"])
    assert docker.returncode == 0, docker.stderr
    assert docker.stdout.strip() == pinned("DOCKER_VERSION")


def smoke_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PULUMI_", "DOCKER_", "KUBE")) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    # The project's one Pulumi environment (tools/pulumi.env), with a backend of its own.
    env = pulumi_env(base=env, backend=tmp_path / "backend", passphrase="toolchain-smoke")
    env.update(
        HOME=str(tmp_path / "home"),
        # Prove that the preview needs neither a Docker engine nor a cluster (KUBECONFIG
        # is dropped above, and HOME has no ~/.kube/config).
        DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock",
        SMOKE_RENDER_DIR=str(tmp_path / "rendered"),
    )
    (tmp_path / "home").mkdir()
    return env


def test_preview_docker_and_kubernetes(tmp_path: Path) -> None:
    require_binaries()
    assert (VENV / "bin" / "python").exists(), f"no virtualenv at {VENV}; run `make setup`"

    program = tmp_path / "program"
    shutil.copytree(PROGRAM, program)
    project = (program / "Pulumi.yaml").read_text()
    assert "virtualenv: ../../../.venv" in project
    (program / "Pulumi.yaml").write_text(project.replace("../../../.venv", str(VENV)))

    env = smoke_env(tmp_path)
    init = run(
        ["pulumi", "stack", "init", "smoke", "--secrets-provider", "passphrase", "--non-interactive"],
        env=env,
        cwd=program,
    )
    assert init.returncode == 0, init.stdout + init.stderr

    preview = run(["pulumi", "preview", "--stack", "smoke", "--non-interactive", "--json"], env=env, cwd=program)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    result = json.loads(preview.stdout)
    created = {step["urn"].split("::")[-2] for step in result.get("steps", []) if step.get("op") == "create"}
    assert "docker:index/network:Network" in created, preview.stdout
    assert "kubernetes:core/v1:ConfigMap" in created, preview.stdout
    assert "pulumi:providers:kubernetes" in created, preview.stdout

    # Providers come from the toolchain's plugin cache at the SDKs' versions, so the engine
    # has no "using pulumi-resource-... from $PATH" warning to print.
    assert "from $PATH" not in preview.stdout + preview.stderr
    plugins = Path(env["PULUMI_HOME"]) / "plugins"
    assert {"resource-docker-v5.2.0", "resource-kubernetes-v4.25.0"} <= {p.name for p in plugins.iterdir()}
    # A preview renders nothing.
    assert not (tmp_path / "rendered").exists()
