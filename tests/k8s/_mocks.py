"""Run Pulumi programs against recording mocks.

`set_mocks` is called explicitly when this module is imported (so before any test
imports the program) and again, with a fresh monitor, for every run: mocks are
process-global, and each run must see only its own registrations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    provider: str
    dependencies: list[str]
    additional_secret_outputs: list[str]
    retain_on_delete: bool
    inputs: dict[str, Any]


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[(args.typ, args.name)] = args.inputs
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


class _RecordingMonitor(MockMonitor):
    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.recorder = mocks
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                provider=request.provider,
                dependencies=list(request.dependencies),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                retain_on_delete=bool(request.retainOnDelete),
                inputs=self.recorder.inputs.get((request.type, request.name), {}),
            )
        )
        return response


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))


@dataclass
class Run:
    registrations: list[Registration]
    outputs: Any
    logs: list[tuple[int, str]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str) -> Registration:
        found = [r for r in self.registrations if r.type == type_ and r.name == name]
        assert len(found) == 1, f"expected one {type_} {name!r}, found {len(found)}"
        return found[0]

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.registrations if r.parent == urn]


def _install() -> tuple[_RecordingMonitor, _LogCapture]:
    monitor = _RecordingMonitor(_Mocks())
    capture = _LogCapture()
    logger = logging.getLogger(f"plexica-k8s-mocks-{id(capture)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(capture)
    pulumi.runtime.set_mocks(
        monitor.recorder, project="plexica-infra", stack="prod", preview=False, monitor=monitor, logger=logger
    )
    return monitor, capture


_install()


def run_program(program: Callable[[], Any]) -> Run:
    """Run `program` under fresh mocks; it returns a structure of Outputs to resolve."""
    monitor, capture = _install()
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def body() -> pulumi.Output[Any]:
        return pulumi.Output.from_input(program()).apply(lambda value: resolved.setdefault("value", value))

    body()
    return Run(monitor.registrations, resolved.get("value"), capture.messages)


def is_secret_value(value: Any) -> bool:
    """True for a value the engine received wrapped as a secret."""
    return isinstance(value, dict) and value.get(_special_sig_key) == _special_secret_sig


def secret_payload(value: Any) -> Any:
    assert is_secret_value(value), f"not a secret: {value!r}"
    return value["value"]
