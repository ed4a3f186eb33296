"""`LoadedPlugin` and `dependency_order`: the one place the deploy order is decided."""

from __future__ import annotations

import graphlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plexica_infra.errors import ManifestError
from plexica_infra.loading.problems import display_path
from plexica_infra.manifest import PluginManifest

__all__ = ["LoadedPlugin", "dependency_order", "find_cycle"]


@dataclass(frozen=True)
class LoadedPlugin:
    path: Path
    manifest: PluginManifest

    @property
    def id(self) -> str:
        return self.manifest.id


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a] (a plugin before what it depends on), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists the cycle from a dependency to its dependent; we name it the other way.
        found: list[str] = list(reversed(exc.args[1]))
        start = found.index(min(found[:-1]))
        return [*found[start:-1], *found[:start], found[start]]
    return None


def dependency_order(plugins: Sequence[LoadedPlugin]) -> list[LoadedPlugin]:
    """Plugins sorted so every plugin comes after its dependencies, ties by id: the one
    order both targets and the Core API side deploy in.

    Raises ManifestError when a dependency is not among `plugins` or the dependencies form
    a cycle (`load_plugins` reports both as problems first; this guards direct callers).
    """
    by_id = {p.id: p for p in plugins}
    for plugin in plugins:
        unknown = [dep for dep in plugin.manifest.dependency_ids if dep not in by_id]
        if unknown:
            raise ManifestError(
                f"{display_path(plugin.path)}: /deployment/dependencies: {', '.join(unknown)} not among the plugins "
                f"being deployed ({', '.join(sorted(by_id))})"
            )
    sorter = graphlib.TopologicalSorter({pid: p.manifest.dependency_ids for pid, p in by_id.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError:
        cycle = find_cycle({pid: list(p.manifest.dependency_ids) for pid, p in by_id.items()}) or []
        raise ManifestError(
            f"{display_path(by_id[cycle[0]].path)}: /deployment/dependencies: dependency cycle: {' -> '.join(cycle)}; "
            "remove one of these dependencies"
        ) from None
    ordered: list[LoadedPlugin] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(by_id[pid] for pid in ready)
        sorter.done(*ready)
    return ordered
