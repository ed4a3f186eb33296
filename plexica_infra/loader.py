"""Load every `plugins/<id>/plugin.json` into validated models, or report every problem.

One run reports every problem in every manifest, each as
`<file>: <json-pointer>: <message>`, and never raises on bad input.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plexica_infra._validators import image_has_latest_tag
from plexica_infra.config import CONFIG_NAMESPACE, StackConfig
from plexica_infra.contract import v1_manifest_problems
from plexica_infra.errors import ManifestError
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import declared_image, missing_image_message

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
]

MANIFEST_FILE = "plugin.json"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.pointer or '/'}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "pointer": self.pointer or "/", "message": self.message}


@dataclass(frozen=True)
class LoadedPlugin:
    path: Path
    manifest: PluginManifest

    @property
    def id(self) -> str:
        return self.manifest.id


@dataclass
class LoadResult:
    plugins: list[LoadedPlugin] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def display_path(path: Path) -> str:
    """How a manifest's path is printed in a problem line (the one rule, for every caller)."""
    return _display(path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _pointer(loc: Iterable[object]) -> str:
    return "".join(f"/{_escape(part)}" for part in loc)


def _model_at(loc: Sequence[object]) -> type[BaseModel] | None:
    """The model class whose fields live at `loc`, for 'did you mean' hints."""
    model: type[BaseModel] | None = PluginManifest
    for part in loc:
        if model is None:
            return None
        fields = {(info.alias or name): info for name, info in model.model_fields.items()}
        info = fields.get(str(part))
        if info is None:
            return None
        annotation = info.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _messages(error: dict[str, Any]) -> tuple[str, str]:
    loc = [part for part in error["loc"] if part != "[key]"]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "plexica_field":
        return _pointer(loc) + ctx["pointer"], ctx["message"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return _pointer(loc), "required key is missing"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _model_at(loc[:-1])
        accepted = sorted((i.alias or n) for n, i in parent.model_fields.items()) if parent else []
        close = difflib.get_close_matches(key, accepted, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return _pointer(loc), f"unknown key {key!r}{hint} (accepted: {', '.join(accepted)})"
    if kind.endswith("_type") or kind in ("literal_error", "greater_than_equal", "less_than_equal"):
        found = json.dumps(error.get("input"), default=str)
        if len(found) > 60:
            found = found[:57] + "..."
        return _pointer(loc), f"{message}; found {found}"
    return _pointer(loc), message


def _validate_file(path: Path, display: str) -> tuple[PluginManifest | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot read the manifest: {exc}")]
    if not text.strip():
        return None, [Problem(display, "", "the manifest is empty; expected a JSON object")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(display, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    if not isinstance(data, dict):
        return None, [Problem(display, "", f"the manifest must be a JSON object, found {type(data).__name__}")]
    try:
        return PluginManifest.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            pointer, message = _messages(dict(error))
            problems.append(Problem(display, pointer, message))
        return None, problems


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep in graph and state.get(dep) is None and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (cycle := visit(node)):
            return cycle
    return None


def _cross_checks(plugins: list[LoadedPlugin], *, allow_latest: bool) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, LoadedPlugin] = {}
    for plugin in plugins:
        display = _display(plugin.path)
        folder = plugin.path.parent.name
        if plugin.id != folder:
            problems.append(Problem(display, "/id", f"id {plugin.id!r} must equal its folder name {folder!r}"))
        if (other := by_id.get(plugin.id)) is not None:
            problems.append(
                Problem(display, "/id", f"duplicate id {plugin.id!r}: also declared in {_display(other.path)}")
            )
        else:
            by_id[plugin.id] = plugin
        image = plugin.manifest.runtime.image
        if not allow_latest and image is not None and image_has_latest_tag(image):
            problems.append(
                Problem(
                    display,
                    "/runtime/image",
                    f"image {image!r} uses the mutable 'latest' tag, which this stack "
                    "forbids; pin a version tag or a digest",
                )
            )
    for plugin in plugins:
        for index, dep in enumerate(plugin.manifest.deployment.dependencies):
            if dep not in by_id:
                close = difflib.get_close_matches(dep, list(by_id), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (known plugins: {', '.join(sorted(by_id))})"
                problems.append(
                    Problem(
                        _display(plugin.path),
                        f"/deployment/dependencies/{index}",
                        f"unknown plugin {dep!r}{hint}",
                    )
                )
        for index, api_dep in enumerate(plugin.manifest.api.dependencies or []):
            if api_dep.required and api_dep.plugin_id not in by_id:
                problems.append(
                    Problem(
                        _display(plugin.path),
                        f"/api/dependencies/{index}/pluginId",
                        f"required dependency {api_dep.plugin_id!r} is not among the plugins "
                        f'(known plugins: {", ".join(sorted(by_id))}); add it or mark it "required": false',
                    )
                )
    graph = {p.id: list(p.manifest.dependency_ids) for p in by_id.values()}
    if cycle := _find_cycle(graph):
        first = by_id[cycle[0]]
        problems.append(
            Problem(
                _display(first.path),
                "/deployment/dependencies",
                f"dependency cycle: {' -> '.join(cycle)}; remove one of these dependencies",
            )
        )
    return problems


def load_plugins(plugins_dir: Path, *, allow_latest: bool = True) -> LoadResult:
    """Validate every manifest under `plugins_dir`; never raises on bad input."""
    result = LoadResult()
    display_dir = _display(plugins_dir)
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
    for folder in folders:
        path = folder / MANIFEST_FILE
        display = _display(path)
        if not path.is_file():
            result.problems.append(
                Problem(display, "", f"folder {folder.name!r} has no {MANIFEST_FILE}; add one or remove the folder")
            )
            continue
        manifest, problems = _validate_file(path, display)
        result.problems.extend(problems)
        if manifest is not None:
            result.plugins.append(LoadedPlugin(path=path, manifest=manifest))
    result.problems.extend(_cross_checks(result.plugins, allow_latest=allow_latest))
    return result


def stack_problems(stack: StackConfig, plugins: Sequence[LoadedPlugin], *, source: str) -> list[Problem]:
    """What a stack's config says about the plugins: typo'd overrides, images, the Core API's schema.

    Every plugin needs an image (manifest or `plexica:plugins.<id>.image`); with
    `coreApiDialect: plexica-v1` its registration document must pass the real Core API's
    strict manifest schema, so a manifest it would refuse stops before any container starts.
    """
    problems: list[Problem] = []
    for plugin in plugins:
        display = _display(plugin.path)
        image = declared_image(plugin.manifest, stack)
        if image is None:
            problems.append(Problem(display, "/runtime/image", missing_image_message(plugin.id)))
        elif not stack.allow_latest_tag and image_has_latest_tag(image):
            problems.append(
                Problem(
                    source,
                    f"/config/{CONFIG_NAMESPACE}:plugins/{plugin.id}/image",
                    f"image {image!r} uses the mutable 'latest' tag, which this stack forbids; pin a version tag",
                )
            )
        if stack.core_api_dialect == "plexica-v1":
            document = plugin.manifest.registration_document("plexica-v1")
            problems.extend(
                Problem(display, pointer, f"the plexica-v1 Core API would refuse this manifest: {message}")
                for pointer, message in v1_manifest_problems(document)
            )
    known = {plugin.id for plugin in plugins}
    return problems + [
        Problem(
            source,
            f"/config/{CONFIG_NAMESPACE}:plugins/{plugin_id}",
            f"override for unknown plugin {plugin_id!r} (known: {', '.join(sorted(known))})",
        )
        for plugin_id in sorted(stack.plugins)
        if plugin_id not in known
    ]


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


def dependency_order(plugins: Sequence[LoadedPlugin]) -> list[LoadedPlugin]:
    """Plugins sorted so every plugin comes after its dependencies (ties by id)."""
    remaining = {p.id: p for p in plugins}
    ordered: list[LoadedPlugin] = []
    done: set[str] = set()
    while remaining:
        ready = sorted(
            pid
            for pid, p in remaining.items()
            if all(d in done or d not in remaining for d in p.manifest.dependency_ids)
        )
        if not ready:  # a cycle; validation reports it, keep a stable order
            ready = sorted(remaining)
        for pid in ready:
            ordered.append(remaining.pop(pid))
            done.add(pid)
    return ordered
