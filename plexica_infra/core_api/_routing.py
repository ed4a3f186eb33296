"""Lifecycle routes generated from a dialect's transitions table (`plexica_infra.contract`).

Every distinct request of a `LifecycleMachine` (method and path template; `{id}` is the
plugin id) becomes one admin route whose handler is the dialect's handler for that
request's action. A dialect must handle exactly the actions of its table: a table row
without a handler, or a handler for an action the table does not have, stops the app
from being built, so the routes can never drift from the table the providers plan over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.routing import Route

from plexica_infra.contract import LifecycleAction, LifecycleMachine
from plexica_infra.core_api._auth import Handler

__all__ = ["LifecycleRequest", "lifecycle_requests", "lifecycle_routes"]


@dataclass(frozen=True)
class LifecycleRequest:
    """One request of a lifecycle table; several transitions may share it (enable)."""

    action: LifecycleAction
    method: str
    #: The table's template, `{id}` standing for the plugin id.
    path: str

    @property
    def route_path(self) -> str:
        return self.path.replace("{id}", "{plugin_id}")


def lifecycle_requests(machine: LifecycleMachine) -> list[LifecycleRequest]:
    """The distinct requests of `machine`'s table, in the table's order."""
    requests: dict[tuple[str, str], LifecycleRequest] = {}
    for transition in machine.transitions:
        request = LifecycleRequest(transition.action, transition.method, transition.path)
        held = requests.setdefault((request.method, request.path), request)
        if held.action is not request.action:
            raise ValueError(
                f"the {machine.name} lifecycle maps {request.method} {request.path} to both "
                f"{held.action} and {request.action}"
            )
    return list(requests.values())


def lifecycle_routes(
    machine: LifecycleMachine,
    handlers: Mapping[LifecycleAction, Handler],
    guard: Callable[[Handler], Handler],
) -> list[Route]:
    """One route per request of `machine`'s table, each `guard(handlers[action])`."""
    requests = lifecycle_requests(machine)
    actions = {request.action for request in requests}
    if missing := sorted(actions - set(handlers)):
        raise ValueError(f"the {machine.name} lifecycle has no handler for {', '.join(missing)}")
    if extra := sorted(set(handlers) - actions):
        raise ValueError(f"the {machine.name} lifecycle has no request for {', '.join(extra)}")
    return [
        Route(request.route_path, guard(handlers[request.action]), methods=[request.method]) for request in requests
    ]
