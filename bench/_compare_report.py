"""The printed report of `bench_compare.py`: every row with its load average, the ratios and
MET/MISSED against the issue's targets (how far, when missed)."""

from __future__ import annotations

from typing import Any

from _compare_common import (
    TARGET_DEPLOY_RATIO,
    TARGET_PREVIEW_RATIO,
    TARGET_SLOPE_SPREAD,
    TARGET_SWAP_RATIO,
    verdict,
)


def _deploy(rows: list[dict[str, Any]], targets: list[tuple[str, str]]) -> None:
    print(
        "\n1. deploy on Docker: `pulumi up` (deploy + gate + register + enable) vs `docker-compose up -d` + all healthy"
    )
    print(
        f"{'plugins':>8} {'ours s':>8} {'compose s':>10} {'ratio':>6} {'no-op up s':>11} {'load':>11}   "
        f"target <= {TARGET_DEPLOY_RATIO}"
    )
    for row in rows:
        check = verdict(row["ratio"], TARGET_DEPLOY_RATIO) if row["plugins"] <= 10 else "(no target)"
        print(
            f"{row['plugins']:>8} {row['ours_seconds']:>8} {row['compose_seconds']:>10} {row['ratio']:>6} "
            f"{row['ours_noop_seconds']:>11} {row['load']:>11}   {check}"
        )
        if row["plugins"] <= 10:
            targets.append((f"deploy {row['plugins']} plugins <= {TARGET_DEPLOY_RATIO} x compose", check))


def _preview(report: dict[str, Any], targets: list[tuple[str, str]]) -> None:
    rows = report["preview"]
    print("\n2. cluster-less preview + render of the prod program vs a bare program with the same objects")
    print(
        f"{'plugins':>8} {'objects':>8} {'ours s':>8} {'(preview+render)':>18} {'bare s':>8} "
        f"{'(preview+render)':>18} {'ratio':>6} {'load':>11}"
    )
    for row in rows:
        ours = f"{row['ours_preview_seconds']}+{row['ours_render_seconds']}"
        bare = f"{row['bare_preview_seconds']}+{row['bare_render_seconds']}"
        print(
            f"{row['plugins']:>8} {row['objects']:>8} {row['ours_seconds']:>8} {ours:>18} "
            f"{row['bare_seconds']:>8} {bare:>18} {row['ratio']:>6} {row['load']:>11}"
        )
    largest = rows[-1]
    check = verdict(largest["ratio"], TARGET_PREVIEW_RATIO)
    print(
        f"   largest size ({largest['plugins']}): ratio {largest['ratio']}, target <= {TARGET_PREVIEW_RATIO}: {check}"
    )
    targets.append((f"preview {largest['plugins']} plugins <= {TARGET_PREVIEW_RATIO} x bare", check))
    for label in ("ours", "bare"):
        per = report["preview_slopes"][label]
        if per:
            text = ", ".join(f"{s['from']}->{s['to']}: {s['seconds_per_plugin']} s/plugin" for s in per)
            print(f"   slope {label}: {text}")
    spread = report.get("preview_slope_spread")
    if spread is not None:
        check = "MET" if abs(spread) <= TARGET_SLOPE_SPREAD else f"MISSED ({spread:+.0%})"
        print(f"   ours last slope vs first: {spread:+.0%}, target within {TARGET_SLOPE_SPREAD:.0%}: {check}")
        targets.append((f"preview linear (slopes within {TARGET_SLOPE_SPREAD:.0%})", check))


def _swap(rows: list[dict[str, Any]], targets: list[tuple[str, str]]) -> None:
    print("\n3. hot swap of crm (version bump) vs the new container's own create-to-ready time")
    for n, row in enumerate(rows, 1):
        print(
            f"   swap {n}: `up` {row['up_seconds']} s (start of `up` -> gateway on the new container "
            f"{row['up_start_to_switch_seconds']} s); new container created -> gateway serves it "
            f"{row['created_to_switch_seconds']} s (provider's wait done after "
            f"{row['created_to_provider_done_seconds']} s, "
            f"then the Core API side {row['provider_done_to_switch_seconds']} s); "
            f"its own created -> ready {row['own_created_to_ready_seconds']} s; "
            f"ratio {row['ratio']}; gateway {row['requests']} requests, {row['failed_requests']} failed, "
            f"versions {row['versions']}; load {row['load']}"
        )
    ratios = [r["ratio"] for r in rows]
    worst = max((r for r in ratios if r is not None), default=None)
    failed = sum(r["failed_requests"] for r in rows)
    check = f"worst {worst}: {verdict(worst, TARGET_SWAP_RATIO)}" if None not in ratios else "n/a (switch not seen)"
    if failed:
        check += f", {failed} FAILED REQUESTS"
    targets.append((f"hot swap <= {TARGET_SWAP_RATIO} x own ready (worst), 0 failed requests", check))


def print_report(report: dict[str, Any]) -> None:
    print(f"environment: {report['environment']}")
    targets: list[tuple[str, str]] = []
    if report.get("deploy"):
        _deploy(report["deploy"], targets)
    if report.get("preview"):
        _preview(report, targets)
    if report.get("swap"):
        _swap(report["swap"], targets)
    print("\ntargets:")
    for name, check in targets:
        print(f"   {name}: {check}")
    print(f"total: {report['total_seconds']} s, load average {report['load_end']} at the end")
