"""`OrphanSweep`: remove this stack's containers that no Pulumi state owns.

Why: a `pulumi up` killed while a container is being created (a cancelled CI job, an
OOM kill) leaves that container running outside the state. The engine never learns
its id, so nothing would ever delete it, and it keeps the `plugin-<id>` alias
(so it gets traffic), the stack's secrets in its env and `unless-stopped`.

Where, and why here: a small dynamic resource that every `up` and `destroy` of a
Docker stack runs, fed the ids of every plugin container the program declares.
* It cannot read the state, so it keeps its own record: the container ids of the
  last run that finished. A container carrying this stack's identity labels
  (`labels.stack_identity`: managed-by, project, stack) that is neither declared now
  nor in that record was created by a run that never finished: an orphan.
* Containers the engine is replacing are in the record (they were declared by the
  last finished run), so the sweep never races the engine's create-before-delete:
  the engine removes those itself once their replacements serve. The same holds for
  a removed plugin's containers.
* `diff` looks for orphans, so `preview` shows an update exactly when there is one
  to remove, and a clean stack previews with no change.
* `destroy` deletes the sweep before the containers it depends on: it removes the
  orphans, and the engine then removes the rest.
The `make up` path would have been simpler, but it serves only the local stack; the
resource covers every Docker stack and every way `pulumi up` is run.

Only the container ids and the labels are inputs: nothing secret goes into its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from plexica_infra.docker._engine import EngineClient, EngineError
from plexica_infra.errors import PlexicaError

__all__ = ["OrphanSweep", "OrphanSweepProvider", "find_orphans"]


def _ids(value: Any) -> set[str]:
    return {str(item) for item in value or () if isinstance(item, str) and item}


def _known(value: Any) -> bool:
    """False for an input the engine does not know yet (a preview of a replacement)."""
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def find_orphans(client: EngineClient, identity: Mapping[str, str], keep: Iterable[str]) -> list[tuple[str, str]]:
    """(id, name) of every container with all `identity` labels whose id is not in `keep`."""
    kept = set(keep)
    orphans = []
    for container in client.list_containers(identity):
        container_id = str(container.get("Id", ""))
        if container_id and container_id not in kept:
            names = container.get("Names") or [container_id[:12]]
            orphans.append((container_id, str(names[0]).lstrip("/")))
    return orphans


class OrphanSweepError(PlexicaError):
    """The sweep could not list or remove containers."""


class OrphanSweepProvider(ResourceProvider):
    """Props: `identity` (labels), `container_ids` (declared now), `docker_host` ("" = default)."""

    @staticmethod
    def _client(props: Mapping[str, Any]) -> EngineClient:
        return EngineClient(str(props.get("docker_host") or "") or None)

    def _sweep(self, props: Mapping[str, Any], keep: set[str]) -> list[str]:
        identity = dict(props.get("identity") or {})
        if not identity:
            raise OrphanSweepError("orphan sweep: no identity labels; refusing to remove anything")
        client = self._client(props)
        removed = []
        try:
            for container_id, name in find_orphans(client, identity, keep):
                client.remove_container(container_id)
                removed.append(name)
        except EngineError as exc:
            raise OrphanSweepError(f"orphan sweep: {exc}") from None
        return sorted(removed)

    @staticmethod
    def _outputs(props: Mapping[str, Any], removed: Sequence[str]) -> dict[str, Any]:
        return {
            "identity": dict(props.get("identity") or {}),
            "container_ids": sorted(_ids(props.get("container_ids"))),
            "docker_host": str(props.get("docker_host") or ""),
            "removed": list(removed),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        removed = self._sweep(props, _ids(props.get("container_ids")))
        stack = dict(props.get("identity") or {}).get("plexica.stack", "stack")
        return CreateResult(f"orphan-sweep-{stack}", self._outputs(props, removed))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if not _known(news.get("container_ids")):
            return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
        changed = sorted(_ids(olds.get("container_ids"))) != sorted(_ids(news.get("container_ids")))
        changed = changed or olds.get("identity") != news.get("identity")
        if not changed:
            # Unchanged inputs: an update only when an orphan is there to remove.
            try:
                keep = _ids(olds.get("container_ids")) | _ids(news.get("container_ids"))
                changed = bool(find_orphans(self._client(news), dict(news.get("identity") or {}), keep))
            except EngineError:
                changed = False  # preview must not fail on an unreachable engine; `up` will say so
        return DiffResult(changes=changed, replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # What the last finished run declared may still be serving until the engine
        # replaces it: keep it, remove only what no run ever recorded.
        removed = self._sweep(news, _ids(olds.get("container_ids")) | _ids(news.get("container_ids")))
        return UpdateResult(self._outputs(news, removed))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._sweep(props, _ids(props.get("container_ids")))


class OrphanSweep(Resource, module="plexica", name="OrphanSweep"):
    """Removes containers labelled with this stack that no finished run declared."""

    removed: pulumi.Output[list[str]]
    container_ids: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        identity: Mapping[str, str],
        container_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        docker_host: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "identity": dict(identity),
            "container_ids": container_ids,
            "docker_host": docker_host or "",
            "removed": None,
        }
        super().__init__(OrphanSweepProvider(), resource_name, props, opts)
