"""Build the reference plugin image without a registry and without BuildKit.

1. The Go binary (`tools/reference-plugin`) is built once per source hash with
   `CGO_ENABLED=0` and cached at `<state_dir>/build/plugin-<hash>/plugin`
   (`plugin_binary.py`).
2. A minimal root filesystem tarball is written in Python (`tarfile`):
   `/plugin` (0755), `/tmp` (1777), `/etc/passwd` + `/etc/group` with user
   `plugin` 1001:1001, `/etc/nsswitch.conf`, and `/bin/sh` -> `/plugin` (the
   binary's minimal `sh -c`, so Docker's shell-form `--health-cmd` works).
3. The tarball is streamed to the engine's import endpoint (what `docker import`
   does) with `USER 1001:1001`, `ENTRYPOINT ["/plugin"]`, `EXPOSE 3100`, a
   `HEALTHCHECK` running `/plugin healthcheck` and the label
   `io.plexica.source-hash=<hash>`, then tagged with every requested reference.

A reference whose image already carries the same source hash is left alone, and
an existing image with that hash is re-tagged instead of imported again, so a
warm run costs one hash over a handful of files and one inspect per reference.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors

from plexica_infra.docker._engine import EngineError, engine_client
from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.plugin_binary import (
    IMAGE_BUILDER_VERSION,
    build_plugin_binary,
    default_source_dir,
    source_hash,
)

__all__ = [
    "IMAGE_BUILDER_VERSION",
    "SOURCE_HASH_LABEL",
    "build_plugin_binary",
    "build_plugin_images",
    "default_source_dir",
    "plugin_rootfs_tar",
    "source_hash",
    "split_image_ref",
]

SOURCE_HASH_LABEL = "io.plexica.source-hash"
PLUGIN_UID = 1001
PLUGIN_PORT = 3100


def _tar_entry(name: str, *, mode: int, kind: bytes = tarfile.REGTYPE, size: int = 0, uid: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.uid = info.gid = uid
    info.uname = info.gname = "root" if uid == 0 else "plugin"
    info.mtime = 0  # deterministic layer
    return info


def plugin_rootfs_tar(binary: Path) -> bytes:
    """The image's whole root filesystem as an uncompressed tarball."""
    files: dict[str, bytes] = {
        "etc/passwd": (
            "root:x:0:0:root:/root:/sbin/nologin\n"
            f"plugin:x:{PLUGIN_UID}:{PLUGIN_UID}:Plexica plugin:/tmp:/sbin/nologin\n"
        ).encode(),
        "etc/group": f"root:x:0:\nplugin:x:{PLUGIN_UID}:\n".encode(),
        "etc/nsswitch.conf": b"hosts: files dns\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_tar_entry("etc", mode=0o755, kind=tarfile.DIRTYPE))
        for name, data in files.items():
            tar.addfile(_tar_entry(name, mode=0o644, size=len(data)), io.BytesIO(data))
        tar.addfile(_tar_entry("tmp", mode=0o1777, kind=tarfile.DIRTYPE))
        # Docker runs shell-form health checks as `/bin/sh -c ...`: the plugin
        # binary doubles as a minimal `sh -c` when invoked under that name.
        tar.addfile(_tar_entry("bin", mode=0o755, kind=tarfile.DIRTYPE))
        link = _tar_entry("bin/sh", mode=0o777, kind=tarfile.SYMTYPE)
        link.linkname = "/plugin"
        tar.addfile(link)
        size = binary.stat().st_size
        with binary.open("rb") as fh:
            tar.addfile(_tar_entry("plugin", mode=0o755, size=size), fh)
    return buf.getvalue()


def _image_changes(digest: str) -> list[str]:
    return [
        f"USER {PLUGIN_UID}:{PLUGIN_UID}",
        'ENTRYPOINT ["/plugin"]',
        f"EXPOSE {PLUGIN_PORT}",
        "WORKDIR /",
        # The guide's probe timings; the default URL follows $PORT inside the container.
        'HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 CMD ["/plugin", "healthcheck"]',
        f"LABEL {SOURCE_HASH_LABEL}={digest}",
        "LABEL org.opencontainers.image.title=plexica-reference-plugin",
    ]


def split_image_ref(ref: str) -> tuple[str, str]:
    """'registry.plexica.io/plugins/crm:1.2.0' -> ('registry.plexica.io/plugins/crm', '1.2.0')."""
    if "@" in ref:
        raise LocalEnvError(f"image reference {ref!r} has a digest; only name[:tag] can be built locally")
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        name, tag = ref, "latest"
    if not name or not tag:
        raise LocalEnvError(f"invalid image reference {ref!r}")
    return name, tag


def _inspect(api: docker.APIClient, ref: str) -> dict[str, Any] | None:
    try:
        image: dict[str, Any] = api.inspect_image(ref)  # type: ignore[no-untyped-call]
        return image
    except docker.errors.ImageNotFound:
        return None


def _import(api: docker.APIClient, rootfs: bytes, ref: str, digest: str) -> str:
    """What `docker import` does: the rootfs tarball becomes an image tagged `ref`; returns its id."""
    repo, tag = split_image_ref(ref)
    api.import_image_from_data(rootfs, repository=repo, tag=tag, changes=_image_changes(digest))
    image = _inspect(api, ref)
    if image is None:
        raise LocalEnvError(f"docker import of {ref} returned no image")
    return str(image["Id"])


def _label_of(image: dict[str, object] | None) -> str | None:
    if not image:
        return None
    config = image.get("Config")
    labels = config.get("Labels") if isinstance(config, dict) else None
    value = labels.get(SOURCE_HASH_LABEL) if isinstance(labels, dict) else None
    return value if isinstance(value, str) else None


def build_plugin_images(
    image_refs: Sequence[str],
    *,
    docker_host: str,
    state_dir: Path,
    source_dir: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Make every reference in `image_refs` point at the current reference plugin image.

    Returns {ref: image id}. Idempotent: references already carrying the current
    source hash are not touched; no Go build or import happens when all are current.
    """
    progress = progress or default_progress
    refs = list(dict.fromkeys(image_refs))
    if not refs:
        return {}
    for ref in refs:
        split_image_ref(ref)  # validate early
    source_dir = (source_dir or default_source_dir()).resolve()
    digest = source_hash(source_dir)
    started = time.monotonic()
    result: dict[str, str] = {}
    try:
        client = engine_client(docker_host, timeout=300)
    except EngineError as exc:
        raise LocalEnvError(str(exc)) from None
    api = client.api
    try:
        stale: list[str] = []
        for ref in refs:
            image = _inspect(api, ref)
            if image is not None and _label_of(image) == digest:
                result[ref] = str(image["Id"])
                progress(f"{ref}: up to date ({str(image['Id'])[7:19]}, source {digest[:12]})")
            else:
                stale.append(ref)
        if not stale:
            return result

        image_id = next(iter(result.values()), None)
        if image_id is None:
            existing = api.images(filters={"label": f"{SOURCE_HASH_LABEL}={digest}"})
            if existing:
                image_id = str(existing[0]["Id"])
        if image_id is None:
            binary, _ = build_plugin_binary(state_dir, source_dir=source_dir, progress=progress)
            tar_started = time.monotonic()
            rootfs = plugin_rootfs_tar(binary)
            first = stale.pop(0)
            progress(f"{first}: importing rootfs ({len(rootfs) / 1e6:.1f} MB)")
            image_id = _import(api, rootfs, first, digest)
            result[first] = image_id
            progress(f"{first}: built {image_id[7:19]} in {time.monotonic() - tar_started:.1f}s")
        for ref in stale:
            repo, tag = split_image_ref(ref)
            api.tag(image_id, repo, tag)
            result[ref] = image_id
            progress(f"{ref}: tagged {image_id[7:19]}")
    except docker.errors.DockerException as exc:
        raise LocalEnvError(f"docker engine at {docker_host}: {exc}") from None
    finally:
        client.close()
    progress(f"images ready in {time.monotonic() - started:.1f}s")
    return {ref: result[ref] for ref in refs}
