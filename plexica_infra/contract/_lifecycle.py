"""The plugin lifecycle state machines: the guide's, and the real Core API's.

Each `LifecycleMachine` is one table of admin requests; the emulator enforces it
and the providers plan their steps over it, so the two can never disagree.

The guide's "Lifecycle States" diagram (`GUIDE_LIFECYCLE`)::

    [*] --register--> REGISTERED --install--> INSTALLING --(healthy)--> INSTALLED
                      REGISTERED <--(install failed)-- INSTALLING
    INSTALLED --enable--> ACTIVE --disable--> DISABLED --enable--> ACTIVE
    DISABLED --uninstall (DELETE)--> UNINSTALLING --(cleanup done)--> UNINSTALLED
    UNINSTALLED --register--> REGISTERED   (re-register is allowed)

The real Core API (`PLEXICA_V1_LIFECYCLE`; `apps/core-api/src/services/plugin.service.ts`,
`VALID_TRANSITIONS`, and the `DELETE /api/v1/plugins/:id` route) differs where it
ends an uninstall: DELETE is accepted from INSTALLED, ACTIVE (it disables first) and
DISABLED, and the plugin settles back in REGISTERED, its row kept; registering the
same id again is a duplicate. So "removed" means REGISTERED there, UNINSTALLED here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "GUIDE_LIFECYCLE",
    "PLEXICA_V1_LIFECYCLE",
    "STEADY_STATES",
    "TRANSIENT_STATES",
    "TRANSITIONS",
    "UPDATABLE_STATES",
    "LifecycleAction",
    "LifecycleMachine",
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
    #: (INSTALLING settles in INSTALLED, UNINSTALLING in UNINSTALLED or REGISTERED).
    settles_in: LifecycleState
    method: str
    #: Path template; `{id}` is the plugin id.
    path: str


_S = LifecycleState
_A = LifecycleAction
_PLUGINS = "/api/v1/plugins"
_ONE = "/api/v1/plugins/{id}"

#: States a plugin passes through only while the Core API works on a request.
TRANSIENT_STATES = frozenset({_S.INSTALLING, _S.UNINSTALLING})
STEADY_STATES = frozenset(LifecycleState) - TRANSIENT_STATES

#: States in which `POST /api/v1/plugins/{id}/update` (the hot-swap) is accepted.
#: INSTALLED and ACTIVE have running containers, so the guide's update health-checks
#: them first; REGISTERED and DISABLED have none serving ("Container status: None /
#: Stopped" in the guide), so the manifest is swapped without a check.
UPDATABLE_STATES = frozenset({_S.REGISTERED, _S.INSTALLED, _S.ACTIVE, _S.DISABLED})


@dataclass(frozen=True)
class LifecycleMachine:
    """One Core API's lifecycle: its requests, and what "not deployed" means there."""

    name: str
    transitions: tuple[Transition, ...]
    #: Where an uninstall (DELETE) leaves a plugin: what `pulumi destroy` converges to.
    removed: LifecycleState
    #: States from which `POST /api/v1/plugins` registers the plugin again
    #: (besides "unknown to the Core API").
    register_from: frozenset[LifecycleState]

    def allowed(self, state: LifecycleState) -> list[Transition]:
        """The admin requests accepted in `state`, in the table's order."""
        return [transition for transition in self.transitions if transition.source == state]

    def path(self, source: LifecycleState, goal: LifecycleState) -> list[Transition]:
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
            for transition in self.allowed(state):
                nxt = transition.settles_in
                if nxt in previous or nxt == source:
                    continue
                previous[nxt] = (state, transition)
                if nxt == goal:
                    steps: list[Transition] = []
                    cursor = goal
                    while cursor != source:
                        cursor, step = previous[cursor]
                        steps.append(step)
                    return steps[::-1]
                queue.append(nxt)
        raise ValueError(f"the {self.name} lifecycle has no path from {source} to {goal}")


GUIDE_LIFECYCLE = LifecycleMachine(
    name="guide",
    transitions=(
        Transition(_A.INSTALL, _S.REGISTERED, _S.INSTALLING, _S.INSTALLED, "POST", f"{_ONE}/install"),
        Transition(_A.ENABLE, _S.INSTALLED, _S.ACTIVE, _S.ACTIVE, "POST", f"{_ONE}/enable"),
        Transition(_A.DISABLE, _S.ACTIVE, _S.DISABLED, _S.DISABLED, "POST", f"{_ONE}/disable"),
        Transition(_A.ENABLE, _S.DISABLED, _S.ACTIVE, _S.ACTIVE, "POST", f"{_ONE}/enable"),
        Transition(_A.UNINSTALL, _S.DISABLED, _S.UNINSTALLING, _S.UNINSTALLED, "DELETE", _ONE),
        Transition(_A.REGISTER, _S.UNINSTALLED, _S.REGISTERED, _S.REGISTERED, "POST", _PLUGINS),
    ),
    removed=_S.UNINSTALLED,
    register_from=frozenset({_S.UNINSTALLED}),
)

PLEXICA_V1_LIFECYCLE = LifecycleMachine(
    name="plexica-v1",
    transitions=(
        Transition(_A.INSTALL, _S.REGISTERED, _S.INSTALLING, _S.INSTALLED, "POST", f"{_ONE}/install"),
        Transition(_A.ENABLE, _S.INSTALLED, _S.ACTIVE, _S.ACTIVE, "POST", f"{_ONE}/enable"),
        Transition(_A.DISABLE, _S.ACTIVE, _S.DISABLED, _S.DISABLED, "POST", f"{_ONE}/disable"),
        Transition(_A.ENABLE, _S.DISABLED, _S.ACTIVE, _S.ACTIVE, "POST", f"{_ONE}/enable"),
        Transition(_A.UNINSTALL, _S.ACTIVE, _S.UNINSTALLING, _S.REGISTERED, "DELETE", _ONE),
        Transition(_A.UNINSTALL, _S.DISABLED, _S.UNINSTALLING, _S.REGISTERED, "DELETE", _ONE),
        Transition(_A.UNINSTALL, _S.INSTALLED, _S.UNINSTALLING, _S.REGISTERED, "DELETE", _ONE),
    ),
    removed=_S.REGISTERED,
    register_from=frozenset(),
)

#: The guide's table (what the emulator's `guide` dialect enforces).
TRANSITIONS: tuple[Transition, ...] = GUIDE_LIFECYCLE.transitions


def allowed_transitions(state: LifecycleState, machine: LifecycleMachine = GUIDE_LIFECYCLE) -> list[Transition]:
    """The admin requests `machine` accepts in `state`, in the table's order."""
    return machine.allowed(state)


def action_path(
    source: LifecycleState, goal: LifecycleState, machine: LifecycleMachine = GUIDE_LIFECYCLE
) -> list[Transition]:
    """`machine.path(source, goal)`: the shortest request sequence from `source` to `goal`."""
    return machine.path(source, goal)
