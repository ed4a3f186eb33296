"""plexica-infra side by side with what a team would use instead: one run, same engine, same images.

1. Deploy on Docker: `pulumi up` vs `docker-compose up -d` + every container healthy
   (`_compare_deploy.py`).
2. Cluster-less preview + render of prod vs a bare program declaring the same Kubernetes
   objects (`_compare_preview.py`).
3. Hot swap: created -> the gateway serves the new container, vs that container's own
   created -> ready (`_compare_swap.py`).

Every row records the load average (the machine's CPUs are shared); the report prints the
ratios with MET/MISSED against the issue's targets (`_compare_report.py`). Sizes are
arguments; every loop is bounded and everything created is removed at the end (stacks,
containers, networks, image tags, temporary directories, the emulator). Usage:

    .venv/bin/python bench/bench_compare.py [--deploy N ...] [--preview N ...] [--swaps N] [--rounds N] [--json]

With no arguments it runs the smallest sizes (`--deploy 2 --preview 10 --swaps 1`, a few
minutes; what `make bench` runs). The full comparison:

    .venv/bin/python bench/bench_compare.py --deploy 2 10 30 --preview 10 50 200 --swaps 3

`--deploy` / `--preview` with no number skip that part; `--swaps 0` skips the swap.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _compare_common import IMAGE, MAX_PLUGINS, MAX_SWAPS, REPO, Context, load_average, log
from _compare_deploy import bench_deploy, ensure_compose
from _compare_preview import bench_preview, slopes
from _compare_report import print_report
from _compare_swap import bench_swap

from plexica_infra.localenv import build_plugin_images, ensure_docker
from plexica_infra.localenv.emulator_process import start_emulator
from plexica_infra.localenv.ephemeral import STATE_DIR


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deploy", type=int, nargs="*", default=[2], help="plugin counts (default 2; full: 2 10 30)")
    parser.add_argument(
        "--preview", type=int, nargs="*", default=[10], help="plugin counts (default 10; full: 10 50 200)"
    )
    parser.add_argument("--swaps", type=int, default=1, help=f"hot swaps (0-{MAX_SWAPS}, default 1; full: 3)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per size, median reported (1-5)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    args = parser.parse_args()
    sizes = [*args.deploy, *args.preview]
    if any(not 1 <= n <= MAX_PLUGINS for n in sizes) or not 0 <= args.swaps <= MAX_SWAPS or not 1 <= args.rounds <= 5:
        parser.error(f"plugin counts 1-{MAX_PLUGINS}, --swaps 0-{MAX_SWAPS}, --rounds 1-5")
    return args


def run(args: argparse.Namespace, root: Path, report: dict[str, Any]) -> None:
    compose_version = ensure_compose() if args.deploy else "not used"
    host = ensure_docker(STATE_DIR)
    build_plugin_images([IMAGE], docker_host=host, state_dir=STATE_DIR)
    emulator = start_emulator(root / "core-api.db", f"bench-token-{os.urandom(8).hex()}")
    ctx = Context(root, host, emulator)
    try:
        server = ctx.client.version()["Version"]
        report["environment"] = (
            f"dockerd {server}, docker-compose {compose_version}, {os.cpu_count()} CPUs, load average "
            f"{load_average()} at start (the machine is shared with other work; both sides run interleaved)"
        )
        if args.deploy:
            report["deploy"] = bench_deploy(ctx, sorted(args.deploy), args.rounds)
        if args.preview:
            rows = bench_preview(root, emulator, sorted(args.preview), args.rounds)
            report["preview"] = rows
            report["preview_slopes"] = {"ours": slopes(rows, "ours_seconds"), "bare": slopes(rows, "bare_seconds")}
            per = report["preview_slopes"]["ours"]
            if len(per) >= 2 and per[0]["seconds_per_plugin"] > 0:
                report["preview_slope_spread"] = per[-1]["seconds_per_plugin"] / per[0]["seconds_per_plugin"] - 1
        if args.swaps:
            report["swap"] = bench_swap(ctx, args.swaps)
    finally:
        log("cleaning up")
        ctx.cleanup()
        emulator.stop()


def main() -> int:
    args = parse()
    argv = [os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else sys.executable]
    print(f"# reproduce: cd {shlex.quote(str(REPO))} && {shlex.join([*argv, *sys.argv])}", flush=True)
    started = time.monotonic()
    report: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="plexica-bench-compare-"))
    try:
        run(args, root, report)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["load_end"] = load_average()
    print_report(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
