"""A killed `pulumi up` leaves a stack lock and plugin processes: the next run clears them.

The first tests write lock files as the file backend does and start stand-in plugin
processes; the last one kills a real Automation API `up` (the Python driver and the
Pulumi CLI, as a cancelled CI job or an OOM kill would) in the middle of a create,
then shows that the next `up` of the same stack succeeds with a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import yaml
from pulumi import automation as auto

from plexica_infra.localenv import LocalEnvError, recover_stack
from plexica_infra.localenv.stack import open_stack
from plexica_infra.localenv.stale_runs import leftover_plugin_processes, stack_locks
from plexica_infra.localenv.toolchain import REPO, pulumi_env

PROJECT = "plexica-infra"


def write_lock(backend: Path, stack: str, *, pid: int, host: str | None = None, project: str = PROJECT) -> Path:
    """A lock file exactly where and as the file backend writes one."""
    folder = backend / ".pulumi" / "locks" / "organization" / project / stack
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4()}.json"
    content = {
        "pid": pid,
        "username": "root",
        "hostname": host or socket.gethostname(),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    path.write_text(json.dumps(content))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def backend(tmp_path: Path) -> Path:
    folder = tmp_path / "backend"
    folder.mkdir()
    return folder


def test_a_lock_of_a_dead_process_on_this_host_is_cleared_with_a_warning(backend: Path) -> None:
    lock = write_lock(backend, "local", pid=dead_pid())
    other_stack = write_lock(backend, "dev", pid=dead_pid())
    messages: list[str] = []
    recover_stack(backend.as_uri(), PROJECT, "local", progress=messages.append)
    assert not lock.exists()
    assert other_stack.exists(), "only the stack being run is touched"
    (warning,) = messages
    assert warning.startswith("warning: cleared the lock of stack 'local' left by a killed pulumi run")


def test_a_lock_held_by_a_live_process_is_refused_with_the_command_to_clear_it(backend: Path) -> None:
    lock = write_lock(backend, "local", pid=os.getpid())
    with pytest.raises(LocalEnvError) as caught:
        recover_stack(backend.as_uri(), PROJECT, "local", progress=print)
    message = str(caught.value)
    assert f"locked by a running pulumi (pid {os.getpid()} of root@{socket.gethostname()}" in message
    assert "`. tools/env.sh && pulumi cancel --stack local --yes`" in message
    assert "\n" not in message
    assert lock.exists()


def test_a_lock_from_another_host_is_never_cleared(backend: Path) -> None:
    lock = write_lock(backend, "local", pid=dead_pid(), host="ci-runner-7")
    with pytest.raises(LocalEnvError, match=r"root@ci-runner-7 .*another machine.*pulumi cancel --stack local --yes"):
        recover_stack(backend.as_uri(), PROJECT, "local", progress=print)
    assert lock.exists()


def test_a_reused_pid_does_not_keep_a_lock_alive(backend: Path) -> None:
    """The pid in the lock now belongs to a process started after the lock was written."""
    folder = backend / ".pulumi" / "locks" / "organization" / PROJECT / "local"
    folder.mkdir(parents=True)
    stale = {"pid": os.getpid(), "username": "root", "hostname": socket.gethostname()}
    (folder / "old.json").write_text(json.dumps({**stale, "timestamp": "2020-01-01T00:00:00Z"}))
    messages: list[str] = []
    recover_stack(backend.as_uri(), PROJECT, "local", progress=messages.append)
    assert stack_locks(backend, PROJECT, "local") == []
    assert len(messages) == 1


@pytest.fixture
def stand_in_plugin(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start `pulumi-resource-standin` (a copy of `sleep`) with a given backend URL."""
    binary = tmp_path / "pulumi-resource-standin"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    started: list[subprocess.Popen[bytes]] = []

    def start(backend_url: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PULUMI_BACKEND_URL": backend_url}
        proc = subprocess.Popen([str(binary), "300"], env=env, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_leftover_plugins_of_this_backend_are_stopped(
    backend: Path, stand_in_plugin: Callable[[str], subprocess.Popen[bytes]]
) -> None:
    ours = stand_in_plugin(backend.as_uri())
    theirs = stand_in_plugin((backend.parent / "elsewhere").as_uri())
    assert [p.pid for p in leftover_plugin_processes(backend.as_uri())] == [ours.pid]
    write_lock(backend, "local", pid=dead_pid())
    messages: list[str] = []
    recover_stack(backend.as_uri(), PROJECT, "local", progress=messages.append)
    assert ours.wait(timeout=15) is not None
    assert theirs.poll() is None, "a plugin of another backend is left alone"
    assert any(f"{ours.pid} (pulumi-resource-standin)" in m for m in messages), messages


# --- a real run, killed --------------------------------------------------------------------

SLOW_PROGRAM = """
import pathlib
import time

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class Slow(ResourceProvider):
    def create(self, props):
        pathlib.Path(props["marker"]).write_text("creating")
        time.sleep(float(props["seconds"]))
        return CreateResult("slow-1", props)


class SlowThing(Resource):
    def __init__(self, name, marker, seconds):
        super().__init__(Slow(), name, {"marker": marker, "seconds": seconds})


config = pulumi.Config()
SlowThing("slow", config.require("marker"), config.require("seconds"))
"""

DRIVER = """
import sys
from pathlib import Path
from plexica_infra.localenv.stack import open_stack
from plexica_infra.localenv.toolchain import pulumi_env

work_dir, backend, stack_name = sys.argv[1:]
env = pulumi_env(backend=Path(backend), passphrase="stale-run-test")
open_stack(stack_name, env, work_dir=Path(work_dir)).up(color="never")
"""


@pytest.mark.engine
def test_next_up_succeeds_after_a_run_killed_with_sigkill(tmp_path: Path, backend: Path) -> None:
    if not (REPO / ".tools" / "bin" / "pulumi").is_file():
        pytest.fail("the Pulumi toolchain is not built: run `make setup`", pytrace=False)
    work_dir = tmp_path / "project"
    work_dir.mkdir()
    settings = {"name": PROJECT, "runtime": {"name": "python", "options": {"virtualenv": sys.prefix}}}
    (work_dir / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
    (work_dir / "__main__.py").write_text(textwrap.dedent(SLOW_PROGRAM))
    stack_name = f"killed-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "creating"
    env = pulumi_env(backend=backend, passphrase="stale-run-test")
    stack = open_stack(stack_name, env, work_dir=work_dir)
    stack.set_all_config(
        {f"{PROJECT}:marker": auto.ConfigValue(str(marker)), f"{PROJECT}:seconds": auto.ConfigValue("600")}
    )

    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(work_dir), str(backend), stack_name],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert driver.poll() is None, "the driver ended before the create started"
            assert time.monotonic() < deadline, "the create did not start within 240 s"
            time.sleep(0.2)
        assert stack_locks(backend, PROJECT, stack_name), "a running update holds the stack lock"
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the CLI, like a cancelled job
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    # What the killed run left: the lock, and plugin processes with no engine.
    assert len(stack_locks(backend, PROJECT, stack_name)) == 1
    stack.set_config(f"{PROJECT}:seconds", auto.ConfigValue("0"))
    with pytest.raises(auto.CommandError, match="the stack is currently locked"):
        stack.up(color="never")

    messages: list[str] = []
    recover_stack(backend.as_uri(), PROJECT, stack_name, progress=messages.append)
    assert any("cleared the lock of stack" in m for m in messages), messages
    assert leftover_plugin_processes(backend.as_uri()) == []
    assert not any(
        p.info["environ"] and p.info["environ"].get("PULUMI_BACKEND_URL") == backend.as_uri()
        for p in psutil.process_iter(["environ"])
        if p.pid != os.getpid()
    ), "a process of the killed run outlived the recovery"

    result = stack.up(color="never")
    assert result.summary.result == "succeeded"
    stack.destroy(color="never")
    stack.workspace.remove_stack(stack_name)
