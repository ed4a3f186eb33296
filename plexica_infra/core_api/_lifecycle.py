"""The plugin lifecycle state machine of the deployment guide ("Lifecycle States").

One table, `TRANSITIONS`, is the whole machine; the emulator enforces it and the
providers plan their steps over it, so the two can never disagree::

    [*] --register--> REGISTERED --install--> INSTALLING --(healthy)--> INSTALLED
                      REGISTERED <--(install failed)-- INSTALLING
    INSTALLED --enable--> ACTIVE --disable--> DISABLED --enable--> ACTIVE
    DISABLED --uninstall (DELETE)--> UNINSTALLING --(cleanup done)--> UNINSTALLED
    UNINSTALLED --register--> REGISTERED   (re-register is allowed)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "STEADY_STATES",
    "TRANSIENT_STATES",
    "TRANSITIONS",
    "UPDATABLE_STATES",
    "LifecycleAction",
    "LifecycleState",
    "Transition",
    "action_path",
    "allowed_transitions",
]


class LifecycleState(StrEnum):
    REGISTERED = "REGISTERED"
    INSTALLING = "INSTALLING"
    INSTALLED = "INSTALLED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"
    UNINSTALLING = "UNINSTALLING"
    UNINSTALLED = "UNINSTALLED"


class LifecycleAction(StrEnum):
    """An admin request that moves a plugin; the value is the guide's verb."""

    REGISTER = "register"
    INSTALL = "install"
    ENABLE = "enable"
    DISABLE = "disable"
    UNINSTALL = "uninstall"


@dataclass(frozen=True)
class Transition:
    action: LifecycleAction
    source: LifecycleState
    #: The state the request moves the plugin into at once.
    target: LifecycleState
    #: The state the plugin settles in when the action's work succeeds
    #: (INSTALLING settles in INSTALLED, UNINSTALLING in UNINSTALLED).
    settles_in: LifecycleState
    method: str
    #: Path template; `{id}` is the plugin id.
    path: str


_S = LifecycleState
_A = LifecycleAction

TRANSITIONS: tuple[Transition, ...] = (
    Transition(_A.INSTALL, _S.REGISTERED, _S.INSTALLING, _S.INSTALLED, "POST", "/api/v1/plugins/{id}/install"),
    Transition(_A.ENABLE, _S.INSTALLED, _S.ACTIVE, _S.ACTIVE, "POST", "/api/v1/plugins/{id}/enable"),
    Transition(_A.DISABLE, _S.ACTIVE, _S.DISABLED, _S.DISABLED, "POST", "/api/v1/plugins/{id}/disable"),
    Transition(_A.ENABLE, _S.DISABLED, _S.ACTIVE, _S.ACTIVE, "POST", "/api/v1/plugins/{id}/enable"),
    Transition(_A.UNINSTALL, _S.DISABLED, _S.UNINSTALLING, _S.UNINSTALLED, "DELETE", "/api/v1/plugins/{id}"),
    Transition(_A.REGISTER, _S.UNINSTALLED, _S.REGISTERED, _S.REGISTERED, "POST", "/api/v1/plugins"),
)

#: States a plugin passes through only while the Core API works on a request.
TRANSIENT_STATES = frozenset({_S.INSTALLING, _S.UNINSTALLING})
STEADY_STATES = frozenset(LifecycleState) - TRANSIENT_STATES

#: States in which `POST /api/v1/plugins/{id}/update` (the hot-swap) is accepted.
#: INSTALLED and ACTIVE have running containers, so the update health-checks them
#: first; REGISTERED and DISABLED have none serving ("Container status: None /
#: Stopped" in the guide), so the manifest is swapped without a check.
UPDATABLE_STATES = frozenset({_S.REGISTERED, _S.INSTALLED, _S.ACTIVE, _S.DISABLED})


def allowed_transitions(state: LifecycleState) -> list[Transition]:
    """The admin requests accepted in `state`, in the table's order."""
    return [transition for transition in TRANSITIONS if transition.source == state]


def action_path(source: LifecycleState, goal: LifecycleState) -> list[Transition]:
    """The shortest sequence of admin requests that leads from `source` to `goal`.

    Each request is assumed to succeed, so a step is followed to its `settles_in`
    state. Returns [] when `source` is already `goal`; raises ValueError when the
    machine has no path (e.g. from a transient state, which only the Core API leaves).
    """
    if source == goal:
        return []
    previous: dict[LifecycleState, tuple[LifecycleState, Transition]] = {}
    queue = deque([source])
    while queue:
        state = queue.popleft()
        for transition in allowed_transitions(state):
            nxt = transition.settles_in
            if nxt in previous or nxt == source:
                continue
            previous[nxt] = (state, transition)
            if nxt == goal:
                path: list[Transition] = []
                cursor = goal
                while cursor != source:
                    cursor, step = previous[cursor]
                    path.append(step)
                return path[::-1]
            queue.append(nxt)
    raise ValueError(f"the lifecycle has no path from {source} to {goal}")
