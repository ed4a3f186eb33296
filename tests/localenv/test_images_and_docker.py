"""Image building (idempotency, rootfs layout) and dockerd management against a real engine."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from plexica_infra.localenv import (
    SOURCE_HASH_LABEL,
    build_plugin_binary,
    build_plugin_images,
    docker_paths,
    docker_status,
    ensure_docker,
    find_docker,
    ping_docker,
    source_hash,
    stop_docker,
)
from plexica_infra.localenv.images import default_source_dir, plugin_rootfs_tar
from tests._docker import STATE_DIR, DockerCLI, DockerResources


def test_rootfs_tarball_layout(plugin_binary: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(plugin_rootfs_tar(plugin_binary))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["plugin"].mode == 0o755 and members["plugin"].uid == 0
        assert members["plugin"].size == plugin_binary.stat().st_size
        assert members["tmp"].isdir() and members["tmp"].mode == 0o1777
        assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/plugin"
        passwd = tar.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
        group = tar.extractfile("etc/group").read().decode()  # type: ignore[union-attr]
    assert "plugin:x:1001:1001:" in passwd
    assert "plugin:x:1001:" in group
    assert {m.mtime for m in members.values()} == {0}  # deterministic


def test_binary_is_static(plugin_binary: Path) -> None:
    head = plugin_binary.read_bytes()[:4096]
    assert head[:4] == b"\x7fELF"
    assert b"/lib64/ld-linux" not in head and b"/lib/ld-" not in head  # no ELF interpreter


def test_build_is_idempotent(
    docker: DockerCLI, docker_resources: DockerResources, docker_host: str, tmp_path: Path
) -> None:
    refs = [f"{docker_resources.prefix}/crm:1.2.0", f"{docker_resources.prefix}/analytics:1.0.0"]
    docker_resources.images.extend(refs)  # removed at teardown
    first = build_plugin_images(refs, docker_host=docker_host, state_dir=STATE_DIR)
    assert set(first) == set(refs) and len(set(first.values())) == 1
    binary, _ = build_plugin_binary(STATE_DIR)
    binary_mtime = binary.stat().st_mtime_ns

    messages: list[str] = []
    started = time.monotonic()
    second = build_plugin_images(refs, docker_host=docker_host, state_dir=STATE_DIR, progress=messages.append)
    elapsed = time.monotonic() - started
    assert second == first
    assert all("up to date" in message for message in messages), messages
    assert binary.stat().st_mtime_ns == binary_mtime  # no go build
    assert elapsed < 5, f"warm build took {elapsed:.1f}s"

    # a reference pointing at another image (stale hash) is re-tagged, without importing again
    other = docker_resources.tag(refs[0], "other")
    stranger = f"{docker_resources.prefix}/stranger:1"
    docker_resources.images.append(stranger)
    tiny = tmp_path / "tiny.tar"
    with tarfile.open(tiny, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("marker"), io.BytesIO(b""))
    docker.run("import", "--change", f"LABEL {SOURCE_HASH_LABEL}=stale", str(tiny), stranger)
    docker_resources.images.insert(0, docker.inspect(stranger, kind="image")[0]["Id"])  # dangling after re-tag
    messages.clear()
    third = build_plugin_images(
        [stranger, other], docker_host=docker_host, state_dir=STATE_DIR, progress=messages.append
    )
    assert third == {stranger: first[refs[0]], other: first[refs[0]]}
    assert not any("importing" in message for message in messages), messages


def test_cold_build_from_changed_sources(
    docker: DockerCLI, docker_resources: DockerResources, docker_host: str, tmp_path: Path
) -> None:
    """A source change yields a new hash: go build + import, then the next call does nothing."""
    source = tmp_path / "src"
    shutil.copytree(default_source_dir(), source)
    with (source / "main.go").open("a") as fh:
        fh.write(f"\n// cold-build test {docker_resources.prefix}\n")
    digest = source_hash(source)
    assert digest != source_hash()
    ref = f"{docker_resources.prefix}/cold:1"
    docker_resources.images.append(ref)

    messages: list[str] = []
    result = build_plugin_images(
        [ref], docker_host=docker_host, state_dir=tmp_path / "state", source_dir=source, progress=messages.append
    )
    assert any("go build" in m for m in messages) and any("importing" in m for m in messages), messages
    image = docker.inspect(ref, kind="image")[0]
    assert image["Id"] == result[ref]
    assert image["Config"]["Labels"][SOURCE_HASH_LABEL] == digest

    messages.clear()
    again = build_plugin_images(
        [ref], docker_host=docker_host, state_dir=tmp_path / "state", source_dir=source, progress=messages.append
    )
    assert again == result and all("up to date" in m for m in messages), messages


def test_invalid_reference_is_refused(docker_host: str) -> None:
    from plexica_infra.localenv import LocalEnvError

    with pytest.raises(LocalEnvError, match="digest"):
        build_plugin_images(["x/y@sha256:" + "0" * 64], docker_host=docker_host, state_dir=STATE_DIR)


def test_ensure_docker_is_idempotent(docker_host: str) -> None:
    before = docker_status(STATE_DIR)
    assert before["host"] == docker_host
    started = time.monotonic()
    for _ in range(3):
        assert ensure_docker(STATE_DIR) == docker_host
    assert time.monotonic() - started < 10
    after = docker_status(STATE_DIR)
    assert after["pid"] == before["pid"]
    assert after["started_by_plexica"] == before["started_by_plexica"]
    if after["started_by_plexica"]:
        paths = docker_paths(STATE_DIR)
        record = json.loads(paths.record.read_text())
        assert record["pid"] == after["pid"] and record["host"] == docker_host
        assert paths.pidfile.read_text().strip() == str(after["pid"])
        daemons = [
            pid
            for pid in os.listdir("/proc")
            if pid.isdigit() and f"--data-root={paths.data_root}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert daemons == [str(after["pid"])], "exactly one dockerd on our data root"


def test_socket_path_falls_back_when_too_long(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    paths = docker_paths(deep)
    assert len(os.fsencode(paths.socket)) <= 100
    assert paths.socket.parent.name.startswith("plexica-docker-")
    assert paths.pidfile.parent == deep.resolve() / "docker"  # pid + log stay in the state dir
    assert docker_paths(deep) == paths  # stable
    short = docker_paths(Path("/tmp/s"))
    assert short.socket == Path("/tmp/s/docker/docker.sock")


def test_stop_docker_only_stops_our_own_daemon(tmp_path: Path) -> None:
    messages: list[str] = []
    assert stop_docker(tmp_path / "never-started", progress=messages.append) is False
    assert "nothing to stop" in messages[-1]


def test_find_docker_prefers_an_answering_docker_host(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert find_docker(Path("/nonexistent-state")) == docker_host
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert not ping_docker("unix:///nonexistent/docker.sock")
    assert find_docker(STATE_DIR) == docker_host  # falls through to ours
    assert source_hash()  # sanity: the hash is computable without docker
