"""Validation of a resource's inputs, shared by `check()` and every CRUD method.

During a preview some inputs are unknown (they come from resources not created
yet); those are skipped, and only what is known is judged. Each problem is an
(input name, reason) pair: `check()` reports them as Pulumi CheckFailures, the
CRUD methods raise them together as one CoreApiConfigError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from plexica_infra._validators import PluginId
from plexica_infra.contract import DEFAULT_DIALECT, DEFAULT_TENANT_SLUG, DIALECTS
from plexica_infra.providers._auth import AUTH_MODES
from plexica_infra.providers._base import CORE_API_KEYS, contains_unknown
from plexica_infra.providers._config import tls_verify
from plexica_infra.providers._exceptions import CoreApiConfigError

__all__ = ["CoreApiTarget", "InputCheck", "raise_input_problems"]


@dataclass(frozen=True)
class CoreApiTarget:
    """Which Core API a resource talks to, in which dialect, with which kind of credentials.

    Every field has a default so resources created before a field existed read the same.
    """

    core_api_url: str
    insecure_skip_tls_verify: bool = False
    dialect: str = DEFAULT_DIALECT
    auth_mode: str = "static"
    token_url: str = ""
    client_id: str = ""
    tenant_slug: str = DEFAULT_TENANT_SLUG

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> CoreApiTarget:
        return cls(
            core_api_url=str(props["core_api_url"]).rstrip("/"),
            insecure_skip_tls_verify=bool(props.get("insecure_skip_tls_verify", False)),
            dialect=str(props.get("dialect") or DEFAULT_DIALECT),
            auth_mode=str(props.get("auth_mode") or "static"),
            token_url=str(props.get("token_url") or ""),
            client_id=str(props.get("client_id") or ""),
            tenant_slug=str(props.get("tenant_slug") or DEFAULT_TENANT_SLUG),
        )

    def inputs(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def defaults(props: Mapping[str, Any]) -> dict[str, Any]:
        """`props` with every target default filled in (what `check()` hands on)."""
        filled = dict(props)
        filled.setdefault("insecure_skip_tls_verify", False)
        for key, default in zip(CORE_API_KEYS, (DEFAULT_DIALECT, "static", "", "", DEFAULT_TENANT_SLUG), strict=True):
            if filled.get(key) is None:
                filled[key] = default
        return filled


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

    def core_api(self) -> InputCheck:
        """`core_api_url`, the TLS flag, the dialect and the auth settings."""
        self.required("core_api_url").flags("insecure_skip_tls_verify").urls("core_api_url")
        self.rule(
            "dialect",
            lambda value: value in DIALECTS,
            f"dialect must be one of {', '.join(DIALECTS)} (plexica:coreApiDialect)",
        )
        self.rule(
            "auth_mode",
            lambda value: value in AUTH_MODES,
            f"auth_mode must be one of {', '.join(AUTH_MODES)} (plexica:coreApiAuth)",
        )
        if self.props.get("auth_mode") == "client-credentials":
            for key, config in (("token_url", "coreApiTokenUrl"), ("client_id", "coreApiClientId")):
                if not self.props.get(key):
                    self.add(key, f"{key} is required with client-credentials auth (plexica:{config})")
            if self.props.get("token_url"):
                self.urls("token_url", what="token URL", example="https://keycloak:8080/realms/master/...")
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
