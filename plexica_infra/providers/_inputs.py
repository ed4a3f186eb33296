"""Validation of a resource's inputs, shared by `check()` and every CRUD method.

During a preview some inputs are unknown (they come from resources not created
yet); those are skipped, and only what is known is judged. Each problem is an
(input name, reason) pair: `check()` reports them as Pulumi CheckFailures, the
CRUD methods raise them together as one CoreApiConfigError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from plexica_infra._validators import PluginId
from plexica_infra.providers._base import contains_unknown
from plexica_infra.providers._config import tls_verify
from plexica_infra.providers._exceptions import CoreApiConfigError

__all__ = ["InputCheck", "raise_input_problems"]

_PLUGIN_ID = TypeAdapter(PluginId)


class InputCheck:
    """Collects the problems of one property bag."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.props = props
        self.problems: list[tuple[str, str]] = []

    def known(self, key: str) -> bool:
        return self.props.get(key) is not None and not contains_unknown(self.props[key])

    def add(self, key: str, reason: str) -> None:
        self.problems.append((key, reason))

    def required(self, *keys: str) -> InputCheck:
        for key in keys:
            if self.props.get(key) is None:
                self.add(key, f"{key} is required")
        return self

    def rule(self, key: str, valid: Callable[[Any], bool], reason: str) -> InputCheck:
        """Add `reason` when `key` is known and `valid(value)` is false."""
        if self.known(key) and not valid(self.props[key]):
            self.add(key, reason)
        return self

    def plugin_id(self, key: str = "plugin_id") -> InputCheck:
        if self.known(key):
            try:
                _PLUGIN_ID.validate_python(self.props[key])
            except ValidationError as exc:
                self.add(key, exc.errors()[0]["msg"].removeprefix("Value error, "))
        return self

    def urls(
        self, key: str, *, many: bool = False, what: str | None = None, example: str = "http://127.0.0.1:3000"
    ) -> InputCheck:
        """http(s) URLs, honouring the TLS rule of `insecure_skip_tls_verify`."""
        if not self.known(key):
            return self
        values = self.props[key]
        if many and (not isinstance(values, list | tuple) or not values):
            self.add(key, f"{key} must be a non-empty list of http(s) URLs")
            return self
        insecure = self.props.get("insecure_skip_tls_verify") is True
        for value in values if many else [values]:
            if contains_unknown(value):
                continue
            try:
                tls_verify(str(value), insecure, what=what or key, example=example)
            except CoreApiConfigError as exc:
                self.add(key, str(exc))
        return self

    def flags(self, *keys: str) -> InputCheck:
        for key in keys:
            self.rule(key, lambda value: isinstance(value, bool), f"{key} must be true or false")
        return self


def raise_input_problems(props: Mapping[str, Any], problems: list[tuple[str, str]], step: str) -> None:
    """Raise every problem at once, as one CoreApiConfigError naming the plugin and the step."""
    if problems:
        plugin_id = str(props.get("plugin_id", "?"))
        raise CoreApiConfigError(
            f"{plugin_id}: {step}: " + "; ".join(reason for _, reason in problems),
            plugin_id=plugin_id,
            step=step,
        )
