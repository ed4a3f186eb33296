"""Issue 12, finding 9: `pulumi up` killed with SIGKILL while a container is being created.

The killed run leaves a container the state never learned about: it keeps the
`plugin-<id>` alias, the stack's secrets and `unless-stopped`. The next `up` must
converge to exactly one container per instance, and `destroy` must leave none.
Real processes: the Pulumi CLI (killed together with its language host and providers, so
none of them can clean up: the Docker provider removes a half-created container when
its engine goes away gracefully), dockerd, the emulator. Without the orphan sweep the
next `up` leaves two `crm` containers, and `destroy` fails on the network the orphan
still holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from plexica_infra.docker.labels import MANAGED_BY_LABEL, PROJECT_LABEL, STACK_LABEL
from tests.e2e._project import EphemeralProject, require_toolchain

pytestmark = pytest.mark.e2e

#: How long the killed run may take to reach the first container create.
CREATE_DEADLINE_SECONDS = 240.0


def _stack_containers(project: EphemeralProject) -> list[dict[str, Any]]:
    """Every container (any state) labelled with this ephemeral stack's identity."""
    ids = project.docker.run("ps", "-aq", "--filter", f"label={STACK_LABEL}={project.stack_name}").stdout.split()
    return project.docker.inspect(*ids) if ids else []


def _state_container_ids(project: EphemeralProject) -> set[str]:
    """Container ids in the stored checkpoint (none before a first run recorded anything)."""
    files = list((project.root / "backend" / ".pulumi" / "stacks").glob(f"*/{project.stack_name}.json"))
    latest = json.loads(files[0].read_text()).get("checkpoint", {}).get("latest") if files else None
    return {
        str(resource.get("id"))
        for resource in (latest or {}).get("resources") or []
        if resource.get("type") == "docker:index/container:Container"
    }


def _descendants(root: int) -> list[int]:
    """Every process below `root`, from /proc (plugins may run in process groups of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _kill_tree(root: int) -> None:
    """SIGKILL `root` and everything it started at once, as an OOM kill or a cancelled CI job
    does: no process of the run gets to clean up after it."""
    for pid in [root, *_descendants(root)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _kill_mid_create(project: EphemeralProject) -> str:
    """Start `pulumi up`, SIGKILL it and every process it started as soon as the engine holds
    a container of this stack (created, waiting to become healthy); return that id."""
    project.build_images()
    env = {**os.environ, **project.stack.workspace.env_vars}
    command = [require_toolchain().command, "up", "--yes", "--skip-preview", "--non-interactive"]
    log = (project.root / "killed-up.log").open("wb")
    process = subprocess.Popen(
        [*command, "--stack", project.stack_name],
        cwd=project.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + CREATE_DEADLINE_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            containers = _stack_containers(project)
            if containers:
                _kill_tree(process.pid)
                return str(containers[0]["Id"])
            time.sleep(0.1)
        output = (project.root / "killed-up.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"pulumi up created no container within {CREATE_DEADLINE_SECONDS} s:\n{output}")
    finally:
        if process.poll() is None:
            _kill_tree(process.pid)
        process.wait(timeout=30)
        log.close()


def _clear_lock(project: EphemeralProject) -> None:
    """The killed run's lock (stale locks are `make up`'s business, issue 12 finding 10)."""
    locks = project.root / "backend" / ".pulumi" / "locks"
    for lock in locks.rglob("*.json") if locks.exists() else []:
        if project.stack_name in str(lock):
            lock.unlink()


@pytest.fixture(scope="module")
def slow_health(project: EphemeralProject) -> EphemeralProject:
    """Report health after 5 s, not 2 s: a wider window to kill the run mid-create."""
    settings = json.loads(project.stack.get_config("plexica:docker").value)
    project.stack.set_config("plexica:docker", _config_value({**settings, "healthcheckIntervalSeconds": 5}))
    return project


def _config_value(value: dict[str, Any]) -> auto.ConfigValue:
    return auto.ConfigValue(json.dumps(value))


def test_next_up_converges_after_sigkill_mid_create(slow_health: EphemeralProject) -> None:
    project = slow_health
    orphan = _kill_mid_create(project)
    assert orphan not in _state_container_ids(project), "the killed run recorded its container after all"
    assert any(c["Id"] == orphan for c in _stack_containers(project)), "the killed run left no container"
    _clear_lock(project)

    result = project.up()
    assert result.summary.result == "succeeded"

    containers = _stack_containers(project)
    by_plugin: dict[str, list[str]] = {}
    for container in containers:
        by_plugin.setdefault(container["Config"]["Labels"]["plexica.plugin"], []).append(container["Id"])
    assert {plugin: len(ids) for plugin, ids in by_plugin.items()} == {"crm": 1, "analytics": 1}, by_plugin
    assert orphan not in {c["Id"] for c in containers}
    assert {c["Id"] for c in containers} == _state_container_ids(project)
    for plugin_id in ("crm", "analytics"):
        plugin = project.core_plugin(plugin_id)
        assert plugin is not None and plugin["state"] == "ACTIVE"
        assert project.gateway(plugin_id).status_code == 200


def test_preview_after_convergence_shows_no_change(slow_health: EphemeralProject) -> None:
    preview = slow_health.preview()
    changes = {op: count for op, count in preview.change_summary.items() if op != "same"}
    assert changes == {}, preview.stdout[-3000:]


def test_destroy_leaves_no_container_of_the_stack(slow_health: EphemeralProject) -> None:
    project = slow_health
    # An orphan made by hand, as a killed run would leave it, must go too.
    labels = next(iter(_stack_containers(project)))["Config"]["Labels"]
    identity = [f"--label={key}={labels[key]}" for key in (MANAGED_BY_LABEL, PROJECT_LABEL, STACK_LABEL)]
    project.docker.run("create", *identity, project.manifest("crm")["runtime"]["image"])
    assert len(_stack_containers(project)) == 3
    project.destroy()
    assert _stack_containers(project) == []
