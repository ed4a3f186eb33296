"""Checks across every manifest of the plugins folder: ids, dependencies, cycles.

They read each manifest's raw JSON (`ManifestHead`), so they run even when a manifest
has other problems.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plexica_infra._validators import image_has_latest_tag, shown
from plexica_infra.loading.plugin_set import find_cycle
from plexica_infra.loading.problems import Problem, display_path
from plexica_infra.manifest import MAX_LIST_LENGTH

__all__ = ["ManifestHead", "cross_checks"]


@dataclass(frozen=True)
class ManifestHead:
    """What the cross-file checks read from a manifest, taken from the raw JSON so they run
    even when the manifest has other problems: the root cause (a copied manifest with the
    wrong id) must be named next to its symptoms."""

    path: Path
    id: str | None
    image: str | None
    #: `deployment.dependencies`.
    dependencies: tuple[str, ...]
    #: (index, plugin id) of every `required` entry of `api.dependencies`.
    required_api: tuple[tuple[int, str], ...]

    @property
    def dependency_ids(self) -> list[str]:
        """As `PluginManifest.dependency_ids`: deployed before this plugin."""
        return list(dict.fromkeys([*self.dependencies, *(pid for _, pid in self.required_api)]))

    @classmethod
    def of(cls, path: Path, data: dict[str, Any]) -> ManifestHead:
        runtime: dict[str, Any] = data["runtime"] if isinstance(data.get("runtime"), dict) else {}
        deployment: dict[str, Any] = data["deployment"] if isinstance(data.get("deployment"), dict) else {}
        api: dict[str, Any] = data["api"] if isinstance(data.get("api"), dict) else {}
        dependencies = deployment.get("dependencies")
        listed = api.get("dependencies")
        # An over-long list is the model's problem to report, not 65 "unknown plugin" lines.
        api_dependencies: list[Any] = listed if isinstance(listed, list) and len(listed) <= MAX_LIST_LENGTH else []
        return cls(
            path=path,
            id=data["id"] if isinstance(data.get("id"), str) else None,
            image=runtime.get("image") if isinstance(runtime.get("image"), str) else None,
            dependencies=tuple(d for d in dependencies if isinstance(d, str))
            if isinstance(dependencies, list) and len(dependencies) <= MAX_LIST_LENGTH
            else (),
            required_api=tuple(
                (index, entry["pluginId"])
                for index, entry in enumerate(api_dependencies)
                if isinstance(entry, dict) and isinstance(entry.get("pluginId"), str) and entry.get("required") is True
            ),
        )


def cross_checks(heads: list[ManifestHead], *, allow_latest: bool) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, ManifestHead] = {}
    # A manifest whose id matches its folder owns the id: a copy with the wrong id is the duplicate.
    for head in sorted(heads, key=lambda h: h.id != h.path.parent.name):
        display = display_path(head.path)
        folder = head.path.parent.name
        if head.id is not None and head.id != folder:
            problems.append(Problem(display, "/id", f"id {shown(head.id)} must equal its folder name {shown(folder)}"))
        if head.id is not None:
            if (other := by_id.get(head.id)) is not None:
                problems.append(
                    Problem(
                        display, "/id", f"duplicate id {shown(head.id)}: also declared in {display_path(other.path)}"
                    )
                )
            else:
                by_id[head.id] = head
        if not allow_latest and head.image is not None and image_has_latest_tag(head.image):
            problems.append(
                Problem(
                    display,
                    "/runtime/image",
                    f"image {shown(head.image)} uses the mutable 'latest' tag, which this stack "
                    "forbids; pin a version tag or a digest",
                )
            )
    for head in heads:
        for index, dep in enumerate(head.dependencies):
            if dep not in by_id:
                close = difflib.get_close_matches(dep, list(by_id), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (known plugins: {', '.join(sorted(by_id))})"
                problems.append(
                    Problem(
                        display_path(head.path),
                        f"/deployment/dependencies/{index}",
                        f"unknown plugin {shown(dep)}{hint}",
                    )
                )
        for index, dep in head.required_api:
            if dep not in by_id:
                problems.append(
                    Problem(
                        display_path(head.path),
                        f"/api/dependencies/{index}/pluginId",
                        f"required dependency {shown(dep)} is not among the plugins "
                        f'(known plugins: {", ".join(sorted(by_id))}); add it or mark it "required": false',
                    )
                )
    graph = {pid: [d for d in head.dependency_ids if d in by_id and d != pid] for pid, head in by_id.items()}
    if cycle := find_cycle(graph):
        problems.append(
            Problem(
                display_path(by_id[cycle[0]].path),
                "/deployment/dependencies",
                f"dependency cycle: {' -> '.join(cycle)}; remove one of these dependencies",
            )
        )
    return problems
