"""Load every `plugins/<id>/plugin.json` into validated models, or report every problem.

One run reports every problem in every manifest, each as
`<file>: <json-pointer>: <message>`, and never raises on bad input. The parts live in
`plexica_infra.loading`, one job per module; this module is the loader's public face.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plexica_infra._validators import shown
from plexica_infra.config import StackConfig
from plexica_infra.errors import ManifestError
from plexica_infra.loading.cross_checks import ManifestHead, cross_checks
from plexica_infra.loading.manifest_file import MANIFEST_FILE, parse_file, validate_manifest
from plexica_infra.loading.plugin_set import LoadedPlugin, dependency_order
from plexica_infra.loading.problems import Problem, display_path
from plexica_infra.loading.stack_checks import stack_problems, stack_warnings

__all__ = [
    "MANIFEST_FILE",
    "LoadResult",
    "LoadedPlugin",
    "Problem",
    "dependency_order",
    "display_path",
    "load_plugins",
    "require_plugins",
    "stack_problems",
    "stack_warnings",
]


@dataclass
class LoadResult:
    plugins: list[LoadedPlugin] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_plugins(plugins_dir: Path, *, allow_latest: bool = True) -> LoadResult:
    """Validate every manifest under `plugins_dir`; never raises on bad input."""
    result = LoadResult()
    display_dir = display_path(plugins_dir)
    if not plugins_dir.is_dir():
        result.problems.append(
            Problem(
                display_dir,
                "",
                "plugins folder not found; create plugins/<id>/plugin.json for each plugin",
            )
        )
        return result
    folders = sorted(p for p in plugins_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        result.problems.append(Problem(display_dir, "", "no plugins found; add a manifest at plugins/<id>/plugin.json"))
        return result
    heads: list[ManifestHead] = []
    for folder in folders:
        path = folder / MANIFEST_FILE
        display = display_path(path)
        if not path.is_file():
            result.problems.append(
                Problem(
                    display, "", f"folder {shown(folder.name)} has no {MANIFEST_FILE}; add one or remove the folder"
                )
            )
            continue
        data, problems = parse_file(path, display)
        if data is not None:
            heads.append(ManifestHead.of(path, data))
            manifest, problems = validate_manifest(data, display)
            if manifest is not None:
                result.plugins.append(LoadedPlugin(path=path, manifest=manifest))
        result.problems.extend(problems)
    result.problems.extend(cross_checks(heads, allow_latest=allow_latest))
    return result


def require_plugins(
    plugins_dir: Path, *, allow_latest: bool = True, stack: StackConfig | None = None, stack_file: str = ""
) -> list[LoadedPlugin]:
    """Load all manifests in dependency order, or raise ManifestError listing every problem.

    With `stack`, its policy applies (`allowLatestTag`) and its overrides must name real plugins.
    """
    if stack is not None:
        allow_latest = stack.allow_latest_tag
    result = load_plugins(plugins_dir, allow_latest=allow_latest)
    problems = list(result.problems)
    if stack is not None:
        problems += stack_problems(stack, result.plugins, source=stack_file or "stack config")
    if problems:
        count = len(problems)
        lines = "\n".join(str(problem) for problem in problems)
        raise ManifestError(f"{count} problem{'s' if count != 1 else ''} in plugin manifests:\n{lines}")
    return dependency_order(result.plugins)
