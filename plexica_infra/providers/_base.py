"""The bases of our dynamic providers and resources: inputs model, diff and error mapping.

Pulumi pickles each provider object with dill into the stack state, so a provider
holds only plain settings: no HTTP client (one is made inside each method), no token
and no client secret (see `_core_api_provider`). What a resource takes is its inputs
model (`_inputs`): the provider's `check`, `diff` and the resource's props all come
from it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, DiffResult, Resource, ResourceProvider

from plexica_infra.providers._exceptions import CoreApiError
from plexica_infra.providers._host import reported
from plexica_infra.providers._inputs import ProviderInputs
from plexica_infra.providers._pickle_guard import pickle_state_restored
from plexica_infra.providers._props import PROVIDER_KEY, SECRET_KEYS, contains_unknown, plain

__all__ = ["ProviderBase", "ProviderResource"]

_METHODS = ("check", "diff", "create", "read", "update", "delete")


class ProviderBase(ResourceProvider, abc.ABC):
    """The check, diff and error mapping every provider of ours shares."""

    #: The resource's inputs: what `check` validates and fills in, what `diff` compares.
    INPUTS: ClassVar[type[ProviderInputs]]
    #: Inputs whose change needs a new resource rather than an update.
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset()
    #: Replacements that must delete the old resource first.
    DELETE_BEFORE_REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset()
    #: Never diffed and never copied into outputs.
    PRIVATE_KEYS: ClassVar[frozenset[str]] = frozenset({PROVIDER_KEY, *SECRET_KEYS})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every provider method reports our errors as their one line in the dynamic host."""
        super().__init_subclass__(**kwargs)
        for name in _METHODS:
            if name in vars(cls):
                setattr(cls, name, reported(vars(cls)[name]))

    @contextmanager
    def guard(self, *, plugin_id: str, step: str) -> Iterator[None]:
        """Re-raise anything unexpected as a CoreApiError naming the plugin and the step."""
        try:
            yield
        except CoreApiError:
            raise
        except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
            raise CoreApiError(
                f"{plugin_id}: {step}: {type(exc).__name__}: {exc}", plugin_id=plugin_id, step=step
            ) from exc

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Defaults filled in; every unknown or invalid input one failure naming it."""
        inputs = self.INPUTS.with_defaults(news)
        problems = self.INPUTS.problems(plain(inputs), unknown_keys=True)
        return CheckResult(inputs, [CheckFailure(key, reason) for key, reason in problems])

    # Diff -------------------------------------------------------------------------------------

    def same(self, key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
        new = news.get(key)
        if contains_unknown(new):
            return False
        return bool(self.INPUTS.normalize(key, olds.get(key)) == self.INPUTS.normalize(key, new))

    def drift(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """Output properties whose observed value differs from what `news` wants."""
        return []

    def changed_keys(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        """Inputs that differ, then drifted outputs; `__provider` and the secrets never count."""
        olds, news = plain(olds), plain(news)
        changed = [key for key in self.INPUTS.diff_keys() if not self.same(key, olds, news)]
        return changed + [key for key in self.drift(olds, news) if key not in changed]

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        changed = self.changed_keys(_olds, _news)
        replaces = [key for key in changed if key in self.REPLACE_KEYS]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=bool(self.DELETE_BEFORE_REPLACE_KEYS.intersection(replaces)),
        )

    def inputs_to_outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs echoed as outputs: everything but the secrets and the pickled provider."""
        return {key: value for key, value in props.items() if key not in self.PRIVATE_KEYS}


class ProviderResource(Resource):
    """A dynamic resource of ours, its props built by its provider's inputs model.

    The secrets (`token`, `client_secret`) are wrapped in `Output.secret` (keeping their
    place among the props) and, for a Core API resource, listed in
    `additional_secret_outputs`, merged before the caller's `opts`.
    """

    def __init__(
        self,
        provider: ProviderBase,
        resource_name: str,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = provider.INPUTS.resource_props(inputs)
        secrets = sorted(SECRET_KEYS.intersection(props))
        props.update({key: pulumi.Output.secret(props[key]) for key in secrets if props[key] is not None})
        if secrets:
            opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=secrets), opts)
        with pickle_state_restored():
            super().__init__(provider, resource_name, props, opts)
