"""Render time of the Kubernetes target for N plugins.

Two figures per N: the pure builders alone (`render_objects`), and the whole
program (`deploy_kubernetes`) under Pulumi mocks, i.e. component and resource
registration without an engine. Usage:

    .venv/bin/python bench/bench_k8s_render.py [N ...]     (default: 1 10 50 200)
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi

from plexica_infra.config import StackConfig, StackSecrets, stack_config_from_mapping
from plexica_infra.loader import LoadedPlugin
from plexica_infra.manifest import PluginManifest


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


pulumi.runtime.set_mocks(_Mocks(), preview=False)

from plexica_infra.k8s.objects import render_objects  # noqa: E402  (after set_mocks)
from plexica_infra.k8s.program import deploy_kubernetes  # noqa: E402

STACK: StackConfig = stack_config_from_mapping(
    {
        "target": "kubernetes",
        "coreApiUrl": "https://core-api.plexica.io",
        "kafkaBrokers": "redpanda:29092",
        "kubernetes": {"prometheusSelector": {"app": "prometheus"}},
    },
    source="bench",
)


def _plugins(count: int) -> list[LoadedPlugin]:
    plugins = []
    for index in range(count):
        plugin_id = f"plugin{index:03d}"
        manifest = PluginManifest.model_validate(
            {
                "id": plugin_id,
                "name": f"Plugin {index}",
                "version": "1.0.0",
                "runtime": {"type": "node", "image": f"registry.plexica.io/plugins/{plugin_id}:1.0.0"},
                "api": {"basePath": f"/api/plugins/{plugin_id}", "healthCheck": "/health"},
                # A chain of dependencies: the worst case for depends_on wiring.
                "deployment": {
                    "port": 3100 + index,
                    "dependencies": [f"plugin{index - 1:03d}"] if index else [],
                },
            }
        )
        plugins.append(LoadedPlugin(path=Path(f"plugins/{plugin_id}"), manifest=manifest))
    return plugins


def _timed(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _mocked_program(plugins: list[LoadedPlugin]) -> None:
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        secrets = StackSecrets(*(pulumi.Output.secret(f"value-{i}") for i in range(4)))
        deployed = deploy_kubernetes(plugins, STACK, secrets)
        return pulumi.Output.all(*(c.instance_urls for c in deployed.values()))

    program()


def main(counts: list[int]) -> None:
    print(f"{'plugins':>8} {'objects':>8} {'builders ms':>12} {'per plugin ms':>14} {'mocked program ms':>18}")
    for count in counts:
        plugins = _plugins(count)
        manifests = [p.manifest for p in plugins]
        objects = len(render_objects(manifests, STACK))
        pure = _timed(functools.partial(render_objects, manifests, STACK), repeat=5)
        mocked = _timed(functools.partial(_mocked_program, plugins), repeat=1 if count > 50 else 3)
        print(f"{count:>8} {objects:>8} {pure * 1000:>12.1f} {pure * 1000 / count:>14.2f} {mocked * 1000:>18.0f}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1, 10, 50, 200])
