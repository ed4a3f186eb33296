"""Harness for the Docker target: stack configs from the real stack files, the shipped
manifests, and a recording Pulumi mock monitor.

Mocks are set here, at import, before any test module imports the program
(`plexica_infra.docker.program`), and set again for every program run so each run
records only its own registrations.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from plexica_infra.config import SECRET_KEYS, StackConfig, StackSecrets, stack_config_from_mapping
from plexica_infra.loader import LoadedPlugin
from plexica_infra.manifest import PluginManifest
from tests.conftest import PLUGINS, REPO, shipped_manifest

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
PROVIDER = "pulumi:providers:docker"
GET_REMOTE_IMAGE = "docker:index/getRemoteImage:getRemoteImage"
SWEEP = "pulumi-python:dynamic/plexica:OrphanSweep"

#: Distinctive secret values: no registered input may contain them in plain text.
SECRET_VALUES = {
    "core_api_token": "tok-7f3c9e1a-never-plain",
    "database_url": "postgresql://plexica:db-pass-5d2b8a@postgres:5432/plexica",
    "redis_url": "redis://:redis-pass-91c4e7@redis:6379",
    "jwt_secret": "jwt-signing-secret-0a6f2d",
}


def stack_file(stack: str) -> dict[str, Any]:
    """The non-secret `plexica:*` values of a committed stack file, prefix stripped."""
    data = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    values = {key.removeprefix("plexica:"): value for key, value in data["config"].items()}
    return {key: value for key, value in values.items() if key not in SECRET_KEYS}


def _base_config(stack: str = "dev", **overrides: Any) -> StackConfig:
    """A stack's real config, with top-level keys (and `docker` keys, merged) overridden."""
    values = stack_file(stack)
    docker_overrides = overrides.pop("docker", None)
    if docker_overrides is not None:
        values["docker"] = {**values.get("docker", {}), **docker_overrides}
    values.update(overrides)
    return stack_config_from_mapping(values, source=f"Pulumi.{stack}.yaml")


def manifest(plugin_id: str, **deployment: Any) -> PluginManifest:
    data = shipped_manifest(plugin_id)
    if deployment:
        data["deployment"] = {**data.get("deployment", {}), **deployment}
    return PluginManifest.model_validate(data)


def shipped_plugins() -> list[LoadedPlugin]:
    return [LoadedPlugin(PLUGINS / pid, manifest(pid)) for pid in ("crm", "analytics")]


def make_secrets() -> StackSecrets:
    return StackSecrets(**{key: pulumi.Output.secret(value) for key, value in SECRET_VALUES.items()})


def image_id(reference: str) -> str:
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


class EngineMocks(pulumi.runtime.Mocks):
    """Answers like the Docker provider where the program reads results: containers get an
    autonamed `name` and an ephemeral host port, images an id."""

    def __init__(self) -> None:
        self._ports = itertools.count(32768)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == CONTAINER:
            suffix = hashlib.sha256(args.name.encode()).hexdigest()[:7]
            state.setdefault("name", f"{args.name}-{suffix}")
            state["ports"] = [{**port, "external": next(self._ports)} for port in args.inputs.get("ports", [])]
        elif args.typ == REMOTE_IMAGE:
            state["imageId"] = image_id(args.inputs["name"])
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == GET_REMOTE_IMAGE:
            return {"id": image_id(args.args["name"]), "name": args.args["name"], "repoDigest": ""}, []
        raise AssertionError(f"unexpected invoke {args.token}")


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    #: What the mock engine answered (the resource's outputs).
    state: dict[str, Any]
    provider: str
    dependencies: list[str]
    delete_before_replace: bool | None
    replace_on_changes: list[str]
    on_error_hooks: list[str]


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]
    provider: str


@dataclass
class Recorded:
    registrations: list[Registration] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == typ]

    def named(self, typ: str, name: str) -> Registration:
        (found,) = [r for r in self.registrations if r.type == typ and r.name == name]
        return found

    def by_urn(self, urn: str) -> Registration:
        (found,) = [r for r in self.registrations if r.urn == urn]
        return found


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each request's resource options."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recorded: Recorded) -> None:
        super().__init__(mocks)
        self.recorded = recorded

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    inputs=rpc.deserialize_properties(request.object),
                    state=rpc.deserialize_properties(response.object),
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
                    replace_on_changes=list(request.replaceOnChanges),
                    on_error_hooks=list(request.hooks.on_error),
                )
            )
        return response

    def Invoke(self, request: Any) -> Any:
        self.recorded.invokes.append(Invoke(request.tok, rpc.deserialize_properties(request.args), request.provider))
        return super().Invoke(request)  # type: ignore[no-untyped-call]


class _LogCollector:
    def __init__(self, recorded: Recorded) -> None:
        self.recorded = recorded

    def __getattr__(self, level: str) -> Callable[..., None]:
        return lambda msg, *args, **kwargs: self.recorded.logs.append(str(msg) % args if args else str(msg))


def run_program(build: Callable[[], dict[str, Any]], *, stack: str = "dev") -> Recorded:
    """Run `build` as a Pulumi program under fresh mocks; its returned Outputs are resolved
    into `Recorded.outputs`."""
    recorded = Recorded()
    mocks = EngineMocks()
    pulumi.runtime.set_mocks(
        mocks,
        project="plexica-infra",
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(mocks, recorded),
        logger=_LogCollector(recorded),  # type: ignore[arg-type]
    )

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(**build()).apply(recorded.outputs.update)

    program()
    return recorded


def unwrap(value: Any) -> Any:
    """A registered input's value, secret wrapper removed."""
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


def contains_plain_secret(value: Any) -> bool:
    """True when a secret value appears anywhere in `value` outside a secret wrapper."""
    if rpc.is_rpc_secret(value):
        return False
    if isinstance(value, dict):
        return any(contains_plain_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_plain_secret(v) for v in value)
    if isinstance(value, str):
        return any(secret in value for secret in SECRET_VALUES.values())
    return False


# Set before any test module imports the program (conventions.md).
pulumi.runtime.set_mocks(EngineMocks(), project="plexica-infra", stack="dev", preview=False)
