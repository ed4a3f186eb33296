"""The inputs of the two dynamic resources that watch a plugin's Deployment.

One pydantic model per resource is the single list of its fields: the resource's
props, the provider's parsing, the diff and the replace keys all come from it.
`RolloutGuard` (`rollback.py`) watches a rollout; `DeletionWait` (`deletion_wait.py`)
waits for a removed Deployment to be gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plexica_infra.errors import PlexicaError

__all__ = ["DeletionWaitInputs", "DeploymentWatchInputs", "RolloutGuardInputs", "WatchInputsError"]


class WatchInputsError(PlexicaError):
    """A watch resource got inputs it does not understand (one line)."""


class DeploymentWatchInputs(BaseModel):
    """Which Deployment, in which cluster, and how long to wait for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Inputs whose change makes a new resource (it watches another object).
    REPLACE_KEYS: ClassVar[tuple[str, ...]] = ("namespace", "deployment_name")
    RESOURCE: ClassVar[str] = "deployment watch"

    plugin_id: str = Field(min_length=1)
    namespace: str = Field(min_length=1)
    deployment_name: str = Field(min_length=1)
    deadline_seconds: int = Field(ge=1)
    #: Absolute kubeconfig path; "" = the default (KUBECONFIG, ~/.kube/config).
    kubeconfig: str = ""
    #: kubeconfig context; "" = the current one.
    context: str = ""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Self:
        """The inputs among a resource's props (its outputs and the engine's keys are left out)."""
        known = {key: props[key] for key in cls.model_fields if key in props}
        try:
            return cls.model_validate(known)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "inputs"
            raise WatchInputsError(
                f"{cls.RESOURCE} of plugin {props.get('plugin_id', '?')}: input '{where}': {first['msg']}"
            ) from None

    @classmethod
    def resource_props(cls, **values: Any) -> dict[str, Any]:
        """The props a resource is created with: every field, values possibly still Outputs.

        Values that are Outputs cannot be checked here; the provider checks them with
        `from_props`. Names are checked now: exactly the model's fields.
        """
        if set(values) != set(cls.model_fields):
            missing, unknown = set(cls.model_fields) - set(values), set(values) - set(cls.model_fields)
            raise TypeError(f"{cls.__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return dict(values)

    def props(self) -> dict[str, Any]:
        return self.model_dump()

    def changed(self, other: DeploymentWatchInputs) -> list[str]:
        return [key for key in type(self).model_fields if getattr(self, key) != getattr(other, key)]


class RolloutGuardInputs(DeploymentWatchInputs):
    RESOURCE: ClassVar[str] = "rollout guard"

    #: Hash of the Deployment's spec: a new one means a rollout to watch.
    template_hash: str = Field(min_length=1)


class DeletionWaitInputs(DeploymentWatchInputs):
    RESOURCE: ClassVar[str] = "deletion wait"

    #: The Deployment's selector: its ReplicaSets carry these labels.
    selector: dict[str, str] = Field(min_length=1)
