"""The reference plugin's static Go binary (`tools/reference-plugin`), built once per
source hash with `CGO_ENABLED=0` and cached at `<state_dir>/build/plugin-<hash>/plugin`.

`images.py` packs it into the reference plugin image; the local cluster imports the same
binary (`cluster/_images.py`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

from plexica_infra.localenv._proc import Progress, default_progress, file_lock
from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["IMAGE_BUILDER_VERSION", "build_plugin_binary", "default_source_dir", "source_hash"]

# Bump when the rootfs layout or image config changes: it is part of the hash.
IMAGE_BUILDER_VERSION = "2"
_GO_BUILD_FLAGS = ("-trimpath", "-ldflags=-s -w")
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def default_source_dir() -> Path:
    """`tools/reference-plugin` of the repository this package lives in."""
    return Path(__file__).resolve().parents[2] / "tools" / "reference-plugin"


def _goarch() -> str:
    machine = platform.machine().lower()
    if machine not in _GOARCH:
        raise LocalEnvError(f"unsupported machine architecture {machine!r}")
    return _GOARCH[machine]


def _source_files(source_dir: Path) -> list[Path]:
    files = [
        p
        for p in sorted(source_dir.iterdir())
        if p.is_file() and (p.name in ("go.mod", "go.sum") or (p.suffix == ".go" and not p.name.endswith("_test.go")))
    ]
    if not any(p.suffix == ".go" for p in files):
        raise LocalEnvError(f"no Go sources in {source_dir}")
    return files


def source_hash(source_dir: Path | None = None) -> str:
    """sha256 over the plugin's Go sources, build flags, target arch and image layout."""
    source_dir = source_dir or default_source_dir()
    digest = hashlib.sha256()
    digest.update(f"builder={IMAGE_BUILDER_VERSION};flags={_GO_BUILD_FLAGS};arch={_goarch()}\n".encode())
    for path in _source_files(source_dir):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _go_binary() -> str:
    for candidate in (shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise LocalEnvError("the Go toolchain is needed to build the reference plugin (go not found)")


def build_plugin_binary(
    state_dir: Path, *, source_dir: Path | None = None, progress: Progress | None = None
) -> tuple[Path, str]:
    """Build (or reuse) the static plugin binary; returns (path, source hash)."""
    progress = progress or default_progress
    source_dir = (source_dir or default_source_dir()).resolve()
    digest = source_hash(source_dir)
    build_root = Path(state_dir).resolve() / "build"
    out_dir = build_root / f"plugin-{digest[:16]}"
    binary = out_dir / "plugin"
    if binary.is_file():
        return binary, digest
    with file_lock(build_root / ".lock", timeout=900, what="plugin binary build"):
        if binary.is_file():
            return binary, digest
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / f".plugin.{os.getpid()}.tmp"
        env = {
            **os.environ,
            "CGO_ENABLED": "0",
            "GOOS": "linux",
            "GOARCH": _goarch(),
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",  # stdlib only: never reach for the network
            "GOFLAGS": "-mod=mod -buildvcs=false",
        }
        progress(f"building reference plugin binary (source {digest[:12]}) with go build")
        started = time.monotonic()
        try:
            result = subprocess.run(
                [_go_binary(), "build", *_GO_BUILD_FLAGS, "-o", str(tmp), "."],
                cwd=source_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LocalEnvError("go build of the reference plugin timed out after 30 min") from exc
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise LocalEnvError(f"go build failed:\n{(result.stderr or result.stdout).strip()}")
        os.replace(tmp, binary)
        progress(f"plugin binary built in {time.monotonic() - started:.1f}s -> {binary}")
    return binary, digest
