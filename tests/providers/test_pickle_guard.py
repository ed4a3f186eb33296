"""Hundreds of dynamic resources in one program: the SDK's pickling must not nest deeper each time."""

from __future__ import annotations

import pickle
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from plexica_infra.providers import pickle_state_restored
from plexica_infra.providers._base import ProviderResource


class _Plain(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="x", outs=props)


def _pickler_methods() -> tuple[Any, Any]:
    pickler = pickle._Pickler
    return pickler.__dict__["_batch_setitems"], pickler.__dict__["save_dict"]


def test_the_sdk_still_leaves_its_wrappers_behind() -> None:
    """Why the guard exists: without it each serialization wraps the previous wrapper."""
    before = _pickler_methods()
    try:
        serialize_provider(_Plain())
        assert _pickler_methods()[0] is not before[0], "the SDK no longer leaks: the guard can go"
    finally:
        pickle._Pickler._batch_setitems, pickle._Pickler.save_dict = before  # type: ignore[attr-defined]


def test_a_thousand_serializations_inside_the_guard_leave_pickle_as_it_was() -> None:
    before = _pickler_methods()
    for _ in range(1000):  # ~320 nest deep enough for a RecursionError without the guard
        with pickle_state_restored():
            blob = serialize_provider(_Plain())
    assert blob and _pickler_methods() == before


def test_our_resources_create_inside_the_guard() -> None:
    """ProviderResource serializes its provider inside the guard (checked under Pulumi mocks)."""

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    from plexica_infra.providers import HealthGate

    before = _pickler_methods()
    for index in range(400):
        HealthGate(f"gate-{index}", plugin_id="crm", base_urls=["http://127.0.0.1:3100"], revision="r1")
    assert _pickler_methods() == before
    assert issubclass(HealthGate, ProviderResource)
