"""`ServiceRegistration`: a plugin's service endpoints in the Core API's service registry.

create  register the service (an upsert in both dialects, so re-running converges);
        guide `POST /api/v1/service-registry`, plexica-v1 `POST
        /api/plugin-gateway/services/register` (see `dialects`).
update  the same upsert with the new endpoints: this is how a blue-green swap
        points the gateway (and the next install/update health check) at the
        new containers.
delete  remove the service; already gone counts as done. Unreachable Core API: a
        warning naming the service left registered, and the resource goes.
read    the registry's entry, so endpoints changed by hand show up as a diff;
        unreachable Core API: the last known outputs, with a warning.
diff    replace on `plugin_id`, `service_name`, `core_api_url` or `dialect`; update on
        `endpoints` (compared without trailing slashes and repeats) or `version`.

Register it after the plugin (`PluginRecord`) and before install: install
health-checks the registered endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._base import CORE_API_KEYS, CoreApiProvider, CoreApiResource, plain
from plexica_infra.providers._config import TransportSettings
from plexica_infra.providers._exceptions import CoreApiUnreachableError
from plexica_infra.providers._inputs import CoreApiTarget, InputCheck, raise_input_problems

__all__ = [
    "ServiceRegistration",
    "ServiceRegistrationProvider",
    "normalize_endpoints",
]


def normalize_endpoints(endpoints: Sequence[str]) -> list[str]:
    """Endpoints without trailing slashes and repeats, in their given order."""
    return list(dict.fromkeys(str(endpoint).rstrip("/") for endpoint in endpoints))


def _problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    return (
        InputCheck(props)
        .required("plugin_id", "service_name", "endpoints")
        .plugin_id()
        .rule(
            "service_name",
            lambda value: isinstance(value, str) and bool(value),
            "service_name must be a non-empty string, e.g. 'plugin-crm'",
        )
        .rule("version", lambda value: isinstance(value, str) and bool(value), "version must be a non-empty string")
        .urls("endpoints", many=True, what="endpoint", example="http://127.0.0.1:3100")
        .core_api()
        .problems
    )


class ServiceRegistrationProvider(CoreApiProvider):
    """Dynamic provider behind `ServiceRegistration` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = (
        "plugin_id",
        "service_name",
        "core_api_url",
        "dialect",
        "endpoints",
        "version",
        "insecure_skip_tls_verify",
        "auth_mode",
        "token_url",
        "client_id",
        "tenant_slug",
    )
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "service_name", "core_api_url", "dialect"})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = CoreApiTarget.defaults(news)
        inputs.setdefault("version", "0.0.0")
        return CheckResult(inputs, [CheckFailure(k, r) for k, r in _problems(plain(inputs))])

    def _spec(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        props = plain(props)
        props = {**props, "version": props.get("version") or "0.0.0"}
        raise_input_problems(props, _problems(props), step)
        return {
            "plugin_id": props["plugin_id"],
            "service_name": props["service_name"],
            "endpoints": normalize_endpoints(props["endpoints"]),
            "version": props["version"],
            **CoreApiTarget.from_props(props).inputs(),
        }

    def _register(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        spec = self._spec(props, step)
        plugin_id = spec["plugin_id"]
        with self.dialect(props, plugin_id=plugin_id, step=step) as dialect:
            service = dialect.register_service(
                plugin_id, spec["service_name"], spec["endpoints"], spec["version"], step
            )
        return {
            **spec,
            "endpoints": service.endpoints,
            "created_at": service.created_at,
            "updated_at": service.updated_at,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._register(props, "register service")
        return CreateResult(f"{outputs['plugin_id']}/{outputs['service_name']}", outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._register(_news, "re-register service"))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = plain(_props)
        plugin_id = str(props.get("plugin_id", ""))
        service_name = str(props.get("service_name", ""))
        step = "deregister service"
        try:
            with self.dialect(props, plugin_id=plugin_id, step=step, probing=True) as dialect:
                dialect.remove_service(plugin_id, service_name, step)
        except CoreApiUnreachableError as exc:
            self.warn(
                f"{exc}; service {service_name} of {plugin_id} was NOT removed from the registry of the "
                f"Core API at {props.get('core_api_url')}: remove it there once the Core API is back"
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        plugin_id = str(props.get("plugin_id", ""))
        step = "read service"
        try:
            with self.dialect(props, plugin_id=plugin_id, step=step, probing=True) as dialect:
                service = dialect.read_service(plugin_id, str(props.get("service_name", "")), step)
        except CoreApiUnreachableError as exc:
            self.warn(f"{exc}; keeping the last known service of {plugin_id} (drift unknown)")
            return ReadResult(id_, self.inputs_to_outputs(props))
        if service is None:
            return ReadResult("", {})
        outputs = {
            **self.inputs_to_outputs(props),
            "endpoints": service.endpoints,
            "created_at": service.created_at,
            "updated_at": service.updated_at,
        }
        return ReadResult(id_, outputs)

    def normalize(self, key: str, value: Any) -> Any:
        if key == "endpoints" and isinstance(value, list | tuple):
            return normalize_endpoints(value)
        if key == "version":
            return value or "0.0.0"
        return super().normalize(key, value)


class ServiceRegistration(CoreApiResource, module="plexica", name="ServiceRegistration"):
    """One service of a plugin and its endpoint URLs in the Core API's service registry.

    Outputs echo the inputs except the secrets, plus `created_at` and `updated_at`;
    `endpoints` is what the registry holds.
    """

    plugin_id: pulumi.Output[str]
    service_name: pulumi.Output[str]
    endpoints: pulumi.Output[list[str]]
    version: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    dialect: pulumi.Output[str]
    insecure_skip_tls_verify: pulumi.Output[bool]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        plugin_id: pulumi.Input[str],
        service_name: pulumi.Input[str],
        endpoints: pulumi.Input[Sequence[pulumi.Input[str]]],
        core_api_url: pulumi.Input[str],
        token: pulumi.Input[str] | None = None,
        version: pulumi.Input[str] = "0.0.0",
        insecure_skip_tls_verify: pulumi.Input[bool] = False,
        dialect: pulumi.Input[str] = "guide",
        auth_mode: pulumi.Input[str] = "static",
        token_url: pulumi.Input[str] = "",
        client_id: pulumi.Input[str] = "",
        client_secret: pulumi.Input[str] | None = None,
        tenant_slug: pulumi.Input[str] | None = None,
        transport: TransportSettings | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "plugin_id": plugin_id,
            "service_name": service_name,
            "endpoints": endpoints,
            "core_api_url": core_api_url,
            "token": token,
            "client_secret": client_secret,
            "version": version,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            **dict(zip(CORE_API_KEYS, (dialect, auth_mode, token_url, client_id, tenant_slug), strict=True)),
            "created_at": None,
            "updated_at": None,
        }
        super().__init__(ServiceRegistrationProvider(transport), resource_name, props, opts)
