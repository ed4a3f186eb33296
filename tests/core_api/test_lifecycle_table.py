"""The lifecycle table is the guide's state diagram, edge for edge."""

from __future__ import annotations

import pytest

from plexica_infra.core_api import (
    STEADY_STATES,
    TRANSIENT_STATES,
    TRANSITIONS,
    LifecycleAction,
    LifecycleState,
    action_path,
    allowed_transitions,
)

S = LifecycleState
A = LifecycleAction

# Copied by hand from the guide's "Lifecycle States" diagram (requests only; the
# Core API itself moves INSTALLING and UNINSTALLING on).
GUIDE_EDGES = {
    (S.REGISTERED, "install", S.INSTALLING),
    (S.INSTALLED, "enable", S.ACTIVE),
    (S.ACTIVE, "disable", S.DISABLED),
    (S.DISABLED, "enable", S.ACTIVE),
    (S.DISABLED, "uninstall", S.UNINSTALLING),
    (S.UNINSTALLED, "register", S.REGISTERED),
}


def test_the_table_has_exactly_the_guides_edges() -> None:
    assert {(t.source, t.action.value, t.target) for t in TRANSITIONS} == GUIDE_EDGES


def test_transient_states_settle_where_the_guide_says() -> None:
    settles = {t.target: t.settles_in for t in TRANSITIONS if t.target in TRANSIENT_STATES}
    assert settles == {S.INSTALLING: S.INSTALLED, S.UNINSTALLING: S.UNINSTALLED}
    assert set(S) - {S.INSTALLING, S.UNINSTALLING} == STEADY_STATES


@pytest.mark.parametrize(
    ("source", "goal", "actions"),
    [
        (S.REGISTERED, S.ACTIVE, ["install", "enable"]),
        (S.REGISTERED, S.DISABLED, ["install", "enable", "disable"]),
        (S.INSTALLED, S.DISABLED, ["enable", "disable"]),
        (S.ACTIVE, S.UNINSTALLED, ["disable", "uninstall"]),
        (S.INSTALLED, S.UNINSTALLED, ["enable", "disable", "uninstall"]),
        (S.DISABLED, S.ACTIVE, ["enable"]),
        (S.UNINSTALLED, S.ACTIVE, ["register", "install", "enable"]),
        (S.ACTIVE, S.ACTIVE, []),
    ],
)
def test_action_path_is_the_shortest_walk(source: S, goal: S, actions: list[str]) -> None:
    assert [step.action.value for step in action_path(source, goal)] == actions


def test_no_path_out_of_a_transient_state() -> None:
    with pytest.raises(ValueError, match="no path from INSTALLING to ACTIVE"):
        action_path(S.INSTALLING, S.ACTIVE)


def test_allowed_transitions_per_state() -> None:
    assert [t.action for t in allowed_transitions(S.ACTIVE)] == [A.DISABLE]
    assert [t.action for t in allowed_transitions(S.DISABLED)] == [A.ENABLE, A.UNINSTALL]
    assert allowed_transitions(S.INSTALLING) == []
