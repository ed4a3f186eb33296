"""CPU time of the prod Pulumi program with and without `program_gc.tune_program_gc()`.

Each run is a fresh interpreter that imports `pulumi` (as the language host does before
the program), sets Pulumi mocks and the prod stack's config (`Pulumi.prod.yaml`, rendering
to a directory like `make preview-prod`, placeholder secrets), then runs a copy of
`__main__.py` over N generated manifests: config, loader and every Kubernetes object are
registered with the mock engine. Reported: the program's CPU seconds (`time.process_time`) and the gen
0/1/2 collections it triggered; both variants interleaved, median of the rounds. Usage:

    .venv/bin/python bench/bench_program_gc.py [--plugins N] [--rounds R]    (default 200, 1)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _manifest(index: int) -> dict[str, Any]:
    plugin_id = f"p{index:03d}"
    return {
        "id": plugin_id,
        "name": f"Bench plugin {index}",
        "version": "1.0.0",
        "runtime": {"type": "typescript", "image": f"registry.plexica.io/plugins/{plugin_id}:1.0.0"},
        "api": {"basePath": f"/api/plugins/{plugin_id}", "healthCheck": "/health"},
        "deployment": {"port": 3100 + index, "dependencies": [f"p{index - 1:03d}"] if index % 2 else []},
    }


def child(folder: Path, tuned: bool) -> None:
    """One measured run (in its own interpreter); prints a JSON line."""
    import pulumi
    import yaml

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    pulumi.runtime.set_mocks(Mocks(), project="plexica-infra", stack="prod", preview=True)
    config = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
    # Cluster-less, like `make preview-prod`: render-only, nothing registered with the Core API.
    kube = config["plexica:kubernetes"]
    config["plexica:kubernetes"] = {**kube, "renderYamlTo": str(folder / "render")}
    values = {k: json.dumps(v) if isinstance(v, dict | list) else str(v).lower() if isinstance(v, bool) else str(v)
              for k, v in config.items()}  # fmt: skip
    secrets = {f"plexica:{key}": f"bench-{key}" for key in ("coreApiToken", "databaseUrl", "redisUrl", "jwtSecret")}
    pulumi.runtime.set_all_config({**values, **secrets}, secret_keys=list(secrets))
    if not tuned:
        import plexica_infra.program_gc as program_gc

        program_gc.tune_program_gc = lambda: None
    before = [s["collections"] for s in gc.get_stats()]

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> None:
        runpy.run_path(str(folder / "__main__.py"), run_name="__main__")

    started = time.process_time()
    program()
    cpu = time.process_time() - started
    after = [s["collections"] for s in gc.get_stats()]
    print(json.dumps({"cpu": cpu, "collections": [b - a for a, b in zip(before, after, strict=True)]}))


def measure(folder: Path, tuned: bool) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", str(folder), *(["--tuned"] if tuned else [])]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the measured run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=200, help="generated manifests (1-300, default 200)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per variant, interleaved (1-9, default 1; 3 for the README)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tuned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.tuned)
        return 0
    if not 1 <= args.plugins <= 300 or not 1 <= args.rounds <= 9:
        parser.error("--plugins 1-300, --rounds 1-9")
    folder = Path(tempfile.mkdtemp(prefix="plexica-bench-gc-"))
    try:
        shutil.copy(REPO / "__main__.py", folder / "__main__.py")
        for index in range(args.plugins):
            manifest = _manifest(index)
            (folder / "plugins" / manifest["id"]).mkdir(parents=True)
            (folder / "plugins" / manifest["id"] / "plugin.json").write_text(json.dumps(manifest))
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for n in range(args.rounds):
            for tuned in (False, True) if n % 2 == 0 else (True, False):
                runs[tuned].append(measure(folder, tuned))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()
    print(f"prod program, {args.plugins} plugins under Pulumi mocks, {args.rounds} rounds, load {load[0]:.1f}")
    medians = {}
    for tuned, label in ((False, "default gc"), (True, "tune_program_gc")):
        cpu = [r["cpu"] for r in runs[tuned]]
        medians[tuned] = statistics.median(cpu)
        print(f"  {label:>16}: CPU {medians[tuned]:.2f} s (runs {', '.join(f'{c:.2f}' for c in cpu)}), "
              f"gc collections gen0/1/2 {runs[tuned][0]['collections']}")  # fmt: skip
    print(f"  tuned / default: {medians[True] / medians[False]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
