"""Images for the local node, without a registry: single-layer docker-archive tarballs.

Each image is one uncompressed layer (the reference plugin's root filesystem from
`localenv.images`, or the static `kube-pause` binary) plus a config and a
`manifest.json`, the layout `docker save` writes; `ctr -n k8s.io images import`
loads it into the node's containerd. The archive's name carries the content
hash, so an image whose archive is already imported is not imported again.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from plexica_infra.localenv._proc import Progress
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.images import PLUGIN_PORT, PLUGIN_UID, build_plugin_binary, plugin_rootfs_tar

__all__ = ["PAUSE_IMAGE", "docker_archive", "import_images", "pause_rootfs_tar"]

#: The pod sandbox image containerd's CRI plugin is configured with.
PAUSE_IMAGE = "plexica.local/pause:1"


def _entry(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    return info, io.BytesIO(data)


def pause_rootfs_tar(binary: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(*_entry("pause", binary.read_bytes(), 0o755))
    return buf.getvalue()


def docker_archive(refs: Sequence[str], layer: bytes, config: Mapping[str, Any]) -> bytes:
    """A `docker save`-style archive of one layer tagged as every ref."""
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": dict(config),
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "plexica_infra.localenv.cluster"}],
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id[7:] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": list(refs), "Layers": [layer_name]}]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(*_entry(config_name, config_bytes))
        tar.addfile(*_entry(layer_name, layer))
        tar.addfile(*_entry("manifest.json", json.dumps(manifest).encode()))
    return buf.getvalue()


def _import(ctr: Sequence[str], archive: Path) -> None:
    result = subprocess.run(
        [*ctr, "-n", "k8s.io", "images", "import", str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise LocalEnvError(f"ctr images import {archive.name} failed: {detail[0]}")


def import_images(
    *,
    ctr: Sequence[str],
    images_dir: Path,
    marker_dir: Path,
    pause_binary: Path,
    plugin_refs: Sequence[str],
    state_dir: Path,
    progress: Progress,
) -> list[str]:
    """Import the pause image and the reference plugin image (as every ref) into the node.

    Returns the archives imported this time (empty when everything was current).
    Archives are kept in `images_dir`; `marker_dir` records what this containerd holds.
    """
    images_dir.mkdir(parents=True, exist_ok=True)
    marker_dir.mkdir(parents=True, exist_ok=True)
    wanted: list[tuple[str, bytes, dict[str, Any], list[str]]] = [
        ("pause", pause_rootfs_tar(pause_binary), {"Entrypoint": ["/pause"], "User": "65535:65535"}, [PAUSE_IMAGE])
    ]
    if plugin_refs:
        binary, _digest = build_plugin_binary(state_dir, progress=progress)
        wanted.append(
            (
                "plugin",
                plugin_rootfs_tar(binary),
                {
                    "Entrypoint": ["/plugin"],
                    "User": f"{PLUGIN_UID}:{PLUGIN_UID}",
                    "ExposedPorts": {f"{PLUGIN_PORT}/tcp": {}},
                    "WorkingDir": "/",
                },
                sorted(set(plugin_refs)),
            )
        )
    imported: list[str] = []
    for kind, layer, config, refs in wanted:
        archive_bytes = docker_archive(refs, layer, config)
        digest = hashlib.sha256(archive_bytes).hexdigest()[:16]
        archive = images_dir / f"{kind}-{digest}.tar"
        # The marker lives beside containerd's own content, so it goes when that goes.
        marker = marker_dir / f"{archive.stem}.imported"
        if marker.is_file():
            continue
        if not archive.is_file():
            archive.write_bytes(archive_bytes)
        _import(ctr, archive)
        marker.write_text(" ".join(refs) + "\n")
        imported.append(archive.name)
        progress(f"imported {', '.join(refs)} ({len(layer) / 1e6:.1f} MB layer)")
    return imported
