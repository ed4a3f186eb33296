"""Load every `plugins/<id>/plugin.json` into validated models, or report every problem.

One run reports every problem in every manifest, each as
`<file>: <json-pointer>: <message>`, and never raises on bad input.
"""

from __future__ import annotations

import difflib
import graphlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plexica_infra._validators import (
    MAX_NESTING_DEPTH,
    image_has_latest_tag,
    network_within,
    printable,
    shown,
    unsafe_character,
)
from plexica_infra.config import CONFIG_NAMESPACE, StackConfig
from plexica_infra.contract import v1_manifest_problems
from plexica_infra.errors import ManifestError
from plexica_infra.manifest import MAX_LIST_LENGTH, PluginManifest
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
    "stack_warnings",
]

MANIFEST_FILE = "plugin.json"
#: Largest manifest accepted: real ones are a few hundred bytes.
MAX_MANIFEST_BYTES = 256 * 1024


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        # Escaped: a folder or key named `x\n::error ...` must not start a second line in a CI log.
        return printable(f"{self.file}: {self.pointer or '/'}: {self.message}")

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


def _too_deep(data: Any) -> str | None:
    """The pointer of the first value nested deeper than MAX_NESTING_DEPTH, walking
    iteratively so that depth cannot exhaust the stack."""
    pending: list[tuple[Any, tuple[object, ...]]] = [(data, ())]
    while pending:
        value, loc = pending.pop()
        if len(loc) > MAX_NESTING_DEPTH:
            return _pointer(loc[:MAX_NESTING_DEPTH])
        if isinstance(value, dict):
            pending.extend((child, (*loc, key)) for key, child in value.items())
        elif isinstance(value, list):
            pending.extend((child, (*loc, index)) for index, child in enumerate(value))
    return None


def _unsafe_pass_through(data: dict[str, Any], display: str) -> list[Problem]:
    """Control and bidi characters in the sections the model does not own.

    The model's own types refuse them in every field that becomes a resource; the other
    top-level sections go to the Core API as free text, where newlines and tabs are fine
    but other control, bidi and invisible characters are not.
    """
    problems: list[Problem] = []
    pending: list[tuple[Any, tuple[object, ...]]] = [
        (value, (key,)) for key, value in data.items() if key not in PluginManifest.model_fields
    ]
    # The real Core API's own `api` sections pass through as well.
    api = data.get("api")
    if isinstance(api, dict):
        pending += [(api[key], ("api", key)) for key in ("services", "dependencies") if key in api]
    while pending:
        value, loc = pending.pop(0)
        if isinstance(value, dict):
            for key, child in value.items():
                if (found := unsafe_character(key)) is not None:
                    problems.append(Problem(display, _pointer(loc), f"key {shown(key)} contains {found}"))
                pending.append((child, (*loc, key)))
        elif isinstance(value, list):
            pending.extend((child, (*loc, index)) for index, child in enumerate(value))
        elif isinstance(value, str) and (found := unsafe_character(value, allow_newlines=True)) is not None:
            problems.append(
                Problem(
                    display,
                    _pointer(loc),
                    f"contains {found}; control, bidi and invisible characters are not accepted (they make "
                    "text read differently from what it is)",
                )
            )
    for key in data:
        if key not in PluginManifest.model_fields and (found := unsafe_character(key)) is not None:
            problems.append(Problem(display, "", f"key {shown(key)} contains {found}"))
    return problems


def _parse_file(path: Path, display: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The manifest as a JSON object, or the one problem that stops it from being one."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None, [
                Problem(display, "", f"the manifest is larger than {MAX_MANIFEST_BYTES // 1024} KiB; it cannot be one")
            ]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot read the manifest: {exc}")]
    if not text.strip():
        return None, [Problem(display, "", "the manifest is empty; expected a JSON object")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(display, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    except RecursionError:
        return None, [
            Problem(display, "", f"invalid JSON: nested too deep; at most {MAX_NESTING_DEPTH} levels are accepted")
        ]
    except ValueError as exc:
        # Python refuses integers of more than 4300 digits (`sys.get_int_max_str_digits`).
        return None, [Problem(display, "", f"invalid JSON: {exc}; numbers in a manifest are small")]
    if not isinstance(data, dict):
        return None, [Problem(display, "", f"the manifest must be a JSON object, found {type(data).__name__}")]
    if (deep := _too_deep(data)) is not None:
        return None, [
            Problem(display, deep, f"nested more than {MAX_NESTING_DEPTH} levels deep; a manifest is a few levels")
        ]
    return data, []


def _validate(data: dict[str, Any], display: str) -> tuple[PluginManifest | None, list[Problem]]:
    problems = _unsafe_pass_through(data, display)
    try:
        manifest = PluginManifest.model_validate(data)
        return (None, problems) if problems else (manifest, [])
    except ValidationError as exc:
        for error in exc.errors():
            pointer, message = _messages(dict(error))
            problems.append(Problem(display, pointer, message))
        return None, problems


@dataclass(frozen=True)
class _Head:
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
    def of(cls, path: Path, data: dict[str, Any]) -> _Head:
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


def _cross_checks(heads: list[_Head], *, allow_latest: bool) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, _Head] = {}
    # A manifest whose id matches its folder owns the id: a copy with the wrong id is the duplicate.
    for head in sorted(heads, key=lambda h: h.id != h.path.parent.name):
        display = _display(head.path)
        folder = head.path.parent.name
        if head.id is not None and head.id != folder:
            problems.append(Problem(display, "/id", f"id {shown(head.id)} must equal its folder name {shown(folder)}"))
        if head.id is not None:
            if (other := by_id.get(head.id)) is not None:
                problems.append(
                    Problem(display, "/id", f"duplicate id {shown(head.id)}: also declared in {_display(other.path)}")
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
                        _display(head.path), f"/deployment/dependencies/{index}", f"unknown plugin {shown(dep)}{hint}"
                    )
                )
        for index, dep in head.required_api:
            if dep not in by_id:
                problems.append(
                    Problem(
                        _display(head.path),
                        f"/api/dependencies/{index}/pluginId",
                        f"required dependency {shown(dep)} is not among the plugins "
                        f'(known plugins: {", ".join(sorted(by_id))}); add it or mark it "required": false',
                    )
                )
    graph = {pid: [d for d in head.dependency_ids if d in by_id and d != pid] for pid, head in by_id.items()}
    if cycle := _find_cycle(graph):
        problems.append(
            Problem(
                _display(by_id[cycle[0]].path),
                "/deployment/dependencies",
                f"dependency cycle: {' -> '.join(cycle)}; remove one of these dependencies",
            )
        )
    return problems


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a] (a plugin before what it depends on), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists the cycle from a dependency to its dependent; we name it the other way.
        found: list[str] = list(reversed(exc.args[1]))
        start = found.index(min(found[:-1]))
        return [*found[start:-1], *found[:start], found[start]]
    return None


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
    heads: list[_Head] = []
    for folder in folders:
        path = folder / MANIFEST_FILE
        display = _display(path)
        if not path.is_file():
            result.problems.append(
                Problem(
                    display, "", f"folder {shown(folder.name)} has no {MANIFEST_FILE}; add one or remove the folder"
                )
            )
            continue
        data, problems = _parse_file(path, display)
        if data is not None:
            heads.append(_Head.of(path, data))
            manifest, problems = _validate(data, display)
            if manifest is not None:
                result.plugins.append(LoadedPlugin(path=path, manifest=manifest))
        result.problems.extend(problems)
    result.problems.extend(_cross_checks(heads, allow_latest=allow_latest))
    return result


def stack_problems(stack: StackConfig, plugins: Sequence[LoadedPlugin], *, source: str) -> list[Problem]:
    """What a stack's config says about the plugins: typo'd overrides, images, the Core API's
    schema, and egress destinations outside the stack's `egressAllowed`.

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
                    f"image {shown(image)} uses the mutable 'latest' tag, which this stack forbids; pin a version tag",
                )
            )
        if stack.core_api_dialect == "plexica-v1":
            document = plugin.manifest.registration_document("plexica-v1")
            problems.extend(
                Problem(display, pointer, f"the plexica-v1 Core API would refuse this manifest: {message}")
                for pointer, message in v1_manifest_problems(document)
            )
    known = {plugin.id for plugin in plugins}
    problems += [
        Problem(
            source,
            f"/config/{CONFIG_NAMESPACE}:plugins/{plugin_id}",
            f"override for unknown plugin {plugin_id!r} (known: {', '.join(sorted(known))})",
        )
        for plugin_id in sorted(stack.plugins)
        if plugin_id not in known
    ]
    allowed = stack.egress_allowed
    for plugin in plugins:
        for index, rule in enumerate(plugin.manifest.deployment.egress):
            if not network_within(rule.to, allowed):
                problems.append(
                    Problem(
                        _display(plugin.path),
                        f"/deployment/egress/{index}/to",
                        f"{rule.to} is not inside the stack's {CONFIG_NAMESPACE}:egressAllowed "
                        f"({', '.join(allowed) or 'empty: no extra egress allowed'}); ask for a destination "
                        f"inside it, or add the block to {source} after review",
                    )
                )
    return problems


def stack_warnings(stack: StackConfig, plugins: Sequence[LoadedPlugin]) -> list[str]:
    """What a deploy to this stack will not enforce, one line each."""
    if stack.target != "docker":
        return []
    return [
        f"{_display(plugin.path)}: /deployment/egress: not enforced on a Docker stack (target: docker): "
        "containers on the plexica network can reach any address; only Kubernetes NetworkPolicies "
        "restrict egress"
        for plugin in plugins
        if plugin.manifest.deployment.egress
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
                f"{_display(plugin.path)}: /deployment/dependencies: {', '.join(unknown)} not among the plugins "
                f"being deployed ({', '.join(sorted(by_id))})"
            )
    sorter = graphlib.TopologicalSorter({pid: p.manifest.dependency_ids for pid, p in by_id.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError:
        cycle = _find_cycle({pid: list(p.manifest.dependency_ids) for pid, p in by_id.items()}) or []
        raise ManifestError(
            f"{_display(by_id[cycle[0]].path)}: /deployment/dependencies: dependency cycle: {' -> '.join(cycle)}; "
            "remove one of these dependencies"
        ) from None
    ordered: list[LoadedPlugin] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(by_id[pid] for pid in ready)
        sorter.done(*ready)
    return ordered
