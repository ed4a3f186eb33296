"""Part 2 of `bench_compare.py`: the cluster-less preview of prod against a bare program.

Ours, like `make preview-prod`: the prod program's `preview` and render (`up` of a
render-only stack, `renderYamlTo`). Theirs: a bare Pulumi program that declares the same
Kubernetes objects (`render_objects`) as flat resources: same engine, same provider, same
render mode, same environment (a render-only stack skips checkpoints on both sides).
"""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import statistics
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import yaml
from _compare_common import REPO, generated_manifests, load_average, log, ratio, timed
from pulumi import automation as auto

from plexica_infra.config import stack_config_from_mapping
from plexica_infra.k8s.objects import render_objects
from plexica_infra.localenv.emulator_process import Emulator
from plexica_infra.localenv.ephemeral import EphemeralStack, require_toolchain
from plexica_infra.localenv.stack import RENDER_ONLY_ENV
from plexica_infra.localenv.toolchain import pulumi_env
from plexica_infra.manifest import PluginManifest

PASSPHRASE = "bench-render-passphrase"
BARE_PROGRAM = '''"""A bare Pulumi program: the same Kubernetes objects, flat, no components or wiring."""
import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from plexica_infra.k8s.resources import create_resource

here = Path(__file__).resolve().parent
provider = k8s.Provider("render", render_yaml_to_directory=str(here / "render"))
opts = pulumi.ResourceOptions(provider=provider)
for obj in json.loads((here / "objects.json").read_text()):
    create_resource(obj, opts)
'''


def prod_values(render_dir: Path) -> dict[str, Any]:
    config = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
    values = {key.removeprefix("plexica:"): value for key, value in config.items()}
    values["kubernetes"] = {**values.get("kubernetes", {}), "renderYamlTo": str(render_dir)}
    return values


def render_env(backend: Path) -> dict[str, str]:
    """The toolchain's environment with a throwaway backend; a render-only stack persists
    nothing worth a checkpoint (`make preview-prod` runs it so), for ours and the bare one."""
    return {**pulumi_env(backend=backend, passphrase=PASSPHRASE), **RENDER_ONLY_ENV}


class RenderStack(EphemeralStack):
    """The prod program as a render-only ephemeral stack (placeholder secrets, set via stdin)."""

    STACK_PREFIX: ClassVar[str] = "render"
    POLICY_STACK: ClassVar[str] = "prod"
    PASSPHRASE: ClassVar[str] = PASSPHRASE
    SECRETS: ClassVar[dict[str, str | None]] = {
        key: f"bench-placeholder-{key}" for key in ("coreApiToken", "databaseUrl", "redisUrl", "jwtSecret")
    }

    def stack_config(self) -> dict[str, auto.ConfigValue]:
        def text(value: Any) -> str:
            if isinstance(value, dict | list):
                return json.dumps(value)
            return str(value).lower() if isinstance(value, bool) else str(value)

        return {f"plexica:{k}": auto.ConfigValue(text(v)) for k, v in prod_values(self.root / "render").items()}

    def environment(self) -> dict[str, str]:
        return render_env(self.root / "backend")


def preview_and_render(stack: auto.Stack) -> dict[str, Any]:
    with timed() as preview:
        result = stack.preview(color="never")
    with timed() as render:
        stack.up(color="never", on_output=lambda _line: None)
    return {
        "preview_seconds": round(preview.seconds, 2),
        "render_seconds": round(render.seconds, 2),
        "seconds": round(preview.seconds + render.seconds, 2),
        "steps": sum((result.change_summary or {}).values()),
    }


def run_prod_preview(root: Path, emulator: Emulator, manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    project = RenderStack(root / f"prod-{len(manifests)}-{uuid.uuid4().hex[:6]}", emulator)
    try:
        project.create()
        for folder in list(project.plugins_dir.iterdir()):
            project.remove_manifest(folder.name)
        for pid, manifest in manifests.items():
            project.write_manifest(pid, manifest)
        return preview_and_render(project.stack)
    finally:
        shutil.rmtree(project.root, ignore_errors=True)


def run_bare_preview(root: Path, manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    folder = root / f"bare-{len(manifests)}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    stack_config = stack_config_from_mapping(prod_values(folder / "render"), source="bench")
    objects = render_objects([PluginManifest.model_validate(m) for m in manifests.values()], stack_config)
    (folder / "objects.json").write_text(json.dumps(objects))
    settings = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    settings["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
    settings["name"] = "plexica-bare"
    settings.pop("options", None)  # the bare program is what a team would write: no refresh
    (folder / "__main__.py").write_text(BARE_PROGRAM)
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
    options = auto.LocalWorkspaceOptions(env_vars=render_env(folder / "backend"), pulumi_command=require_toolchain())
    stack = auto.create_stack(f"bare-{uuid.uuid4().hex[:8]}", work_dir=str(folder), opts=options)
    try:
        return {**preview_and_render(stack), "objects": len(objects)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_preview(root: Path, emulator: Emulator, sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        manifests = generated_manifests(size)
        ours: list[dict[str, Any]] = []
        bare: list[dict[str, Any]] = []
        loads = [load_average()]
        for n in range(rounds):
            order: list[tuple[str, Callable[[], dict[str, Any]]]] = [
                ("ours", functools.partial(run_prod_preview, root, emulator, manifests)),
                ("bare", functools.partial(run_bare_preview, root, manifests)),
            ]
            for side, run in order if (n + size) % 2 == 0 else reversed(order):
                log(f"preview {size} plugins, round {n + 1}/{rounds}: {side}")
                (ours if side == "ours" else bare).append(run())
                loads.append(load_average())
        mine = statistics.median(r["seconds"] for r in ours)
        base = statistics.median(r["seconds"] for r in bare)
        row: dict[str, Any] = {"plugins": size, "objects": bare[0]["objects"]}
        for side, runs, median in (("ours", ours, mine), ("bare", bare, base)):
            row[f"{side}_seconds"] = round(median, 2)
            row[f"{side}_preview_seconds"] = statistics.median(r["preview_seconds"] for r in runs)
            row[f"{side}_render_seconds"] = statistics.median(r["render_seconds"] for r in runs)
            row[f"{side}_steps"] = runs[0]["steps"]
        rows.append({**row, "ratio": ratio(mine, base), "load": f"{min(loads)}-{max(loads)}"})
    return rows


def slopes(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Seconds per plugin between consecutive sizes."""
    return [
        {
            "from": a["plugins"],
            "to": b["plugins"],
            "seconds_per_plugin": round((b[key] - a[key]) / (b["plugins"] - a["plugins"]), 4),
        }
        for a, b in itertools.pairwise(rows)
    ]
