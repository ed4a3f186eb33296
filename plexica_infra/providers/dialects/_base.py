"""The interface every Core API dialect implements, and the answer parsing they share.

A dialect maps our operations (register, read, install, enable, disable, update,
uninstall, register / read / remove a service) onto one Core API's routes, bodies and
error codes, and returns the same typed results (`PluginView`, `ServiceView`). The
convergence logic above (`_plugin_lifecycle`, the providers) acts on those results,
the dialect's `LifecycleMachine` and the error classes only: it never asks which
dialect it talks to.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from plexica_infra.contract import DialectName, ErrorKind, LifecycleMachine, LifecycleState, Transition
from plexica_infra.providers._exceptions import CoreApiResponseError
from plexica_infra.providers._transport import CoreApiClient

__all__ = ["Dialect", "PluginView", "ServiceView", "answer_problem"]

M = TypeVar("M", bound=BaseModel)
_MAX_PROBLEMS = 3


@dataclass(frozen=True)
class PluginView:
    """A plugin as any Core API reports it."""

    id: str
    state: LifecycleState
    version: str
    manifest: dict[str, Any]
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class ServiceView:
    """One service of a plugin in the service registry: where its instances answer."""

    plugin_id: str
    service_name: str
    endpoints: list[str]
    created_at: str | None = None
    updated_at: str | None = None


def answer_problem(exc: ValidationError) -> str:
    """What was missing or wrong in an answer, in a few words per field."""
    parts = []
    for error in exc.errors()[:_MAX_PROBLEMS]:
        where = ".".join(str(part) for part in error["loc"]) or "<body>"
        parts.append(f"{where} {'is missing' if error['type'] == 'missing' else error['msg'].lower()}")
    more = len(exc.errors()) - _MAX_PROBLEMS
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class Dialect(abc.ABC):
    """Our operations over one Core API's HTTP contract, for one plugin's calls."""

    name: ClassVar[DialectName]
    machine: ClassVar[LifecycleMachine]

    def __init__(self, api: CoreApiClient) -> None:
        self.api = api

    @staticmethod
    @abc.abstractmethod
    def classify(status: int, code: str, message: str) -> ErrorKind:
        """The meaning of an error answer (see `plexica_infra.contract.ErrorKind`)."""

    @classmethod
    def headers(cls, tenant_slug: str) -> dict[str, str]:
        """Headers every call of this dialect carries (besides the bearer token)."""
        return {}

    # Answers ---------------------------------------------------------------------------------

    def parse(self, model: type[M], response: httpx.Response, step: str) -> M:
        """`response` validated into `model`; otherwise one line naming what was missing."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise CoreApiResponseError(
                f"{self.api.plugin_id}: {step}: Core API answered {response.status_code} but not as the "
                f"{self.name} dialect expects ({model.__name__}): {answer_problem(exc)}; is plexica:coreApiDialect "
                "right for this Core API?",
                plugin_id=self.api.plugin_id,
                step=step,
                status_code=response.status_code,
            ) from None

    # Plugins -----------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_plugin(self, plugin_id: str, step: str) -> PluginView | None:
        """The plugin, or None when this Core API does not know it."""

    @abc.abstractmethod
    def register(self, manifest: Mapping[str, Any]) -> PluginView | None:
        """Register; raises CoreApiConflictError when the id is already registered."""

    @abc.abstractmethod
    def act(self, transition: Transition, plugin_id: str) -> PluginView | None:
        """One lifecycle request; raises CoreApiConflictError when the state does not allow it."""

    @abc.abstractmethod
    def update(self, plugin_id: str, manifest: Mapping[str, Any]) -> PluginView | None:
        """Swap in a new manifest (the hot-swap)."""

    # Service registry -------------------------------------------------------------------------

    @abc.abstractmethod
    def register_service(
        self, plugin_id: str, service_name: str, endpoints: Sequence[str], version: str, step: str
    ) -> ServiceView:
        """Create or replace one service's endpoints (an upsert)."""

    @abc.abstractmethod
    def read_service(self, plugin_id: str, service_name: str, step: str) -> ServiceView | None:
        """The service as the registry holds it, or None."""

    @abc.abstractmethod
    def remove_service(self, plugin_id: str, service_name: str, step: str) -> None:
        """Remove one service; already gone counts as done."""
