"""`ServiceRegistration`: a plugin's service endpoints in the Core API's service registry.

create  `POST /api/v1/service-registry` (an upsert, so re-running converges).
update  the same upsert with the new endpoints: this is how a blue-green swap
        points the gateway (and the next install/update health check) at the
        new containers.
delete  `DELETE /api/v1/service-registry/{pluginId}/{serviceName}`; 404 counts as done.
read    the registry's entry, so endpoints changed by hand show up as a diff.
diff    replace on `plugin_id`, `service_name` or `core_api_url`; update on
        `endpoints` (compared without trailing slashes and repeats).

Register it before the plugin is installed: install health-checks the
registered endpoints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._base import CoreApiProvider, CoreApiResource, plain
from plexica_infra.providers._config import TransportSettings
from plexica_infra.providers._exceptions import CoreApiNotFoundError
from plexica_infra.providers._inputs import InputCheck, raise_input_problems

__all__ = [
    "SERVICE_REGISTRY_PATH",
    "ServiceRegistration",
    "ServiceRegistrationProvider",
    "normalize_endpoints",
]

SERVICE_REGISTRY_PATH = "/api/v1/service-registry"


def normalize_endpoints(endpoints: Sequence[str]) -> list[str]:
    """Endpoints without trailing slashes and repeats, in their given order."""
    return list(dict.fromkeys(str(endpoint).rstrip("/") for endpoint in endpoints))


def _problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    return (
        InputCheck(props)
        .required("plugin_id", "service_name", "endpoints", "core_api_url")
        .plugin_id()
        .rule(
            "service_name",
            lambda value: isinstance(value, str) and bool(value),
            "service_name must be a non-empty string, e.g. 'plugin-crm'",
        )
        .flags("insecure_skip_tls_verify")
        .urls("endpoints", many=True, what="endpoint", example="http://127.0.0.1:3100")
        .urls("core_api_url")
        .problems
    )


class ServiceRegistrationProvider(CoreApiProvider):
    """Dynamic provider behind `ServiceRegistration` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = (
        "plugin_id",
        "service_name",
        "core_api_url",
        "endpoints",
        "insecure_skip_tls_verify",
    )
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "service_name", "core_api_url"})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = dict(news)
        inputs.setdefault("insecure_skip_tls_verify", False)
        return CheckResult(inputs, [CheckFailure(k, r) for k, r in _problems(plain(inputs))])

    def _spec(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        props = plain(props)
        raise_input_problems(props, _problems(props), step)
        return {
            "plugin_id": props["plugin_id"],
            "service_name": props["service_name"],
            "core_api_url": str(props["core_api_url"]).rstrip("/"),
            "endpoints": normalize_endpoints(props["endpoints"]),
            "insecure_skip_tls_verify": bool(props.get("insecure_skip_tls_verify", False)),
        }

    def _register(self, props: Mapping[str, Any], step: str) -> dict[str, Any]:
        spec = self._spec(props, step)
        plugin_id = spec["plugin_id"]
        body = {
            "pluginId": plugin_id,
            "serviceName": spec["service_name"],
            "endpoints": spec["endpoints"],
        }
        with (
            self.guard(plugin_id=plugin_id, step=step),
            self.client(props, plugin_id=plugin_id, step=step) as api,
        ):
            service = api.json("POST", SERVICE_REGISTRY_PATH, step=step, json_body=body)
        return {
            **spec,
            "endpoints": service["endpoints"],
            "created_at": service.get("createdAt"),
            "updated_at": service.get("updatedAt"),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._register(props, "register service")
        return CreateResult(f"{outputs['plugin_id']}/{outputs['service_name']}", outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._register(_news, "re-register service"))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        props = plain(_props)
        plugin_id = str(props.get("plugin_id", ""))
        path = f"{SERVICE_REGISTRY_PATH}/{quote(plugin_id)}/{quote(str(props.get('service_name', '')))}"
        step = "deregister service"
        with (
            self.guard(plugin_id=plugin_id, step=step),
            self.client(props, plugin_id=plugin_id, step=step) as api,
            contextlib.suppress(CoreApiNotFoundError),
        ):  # already gone counts as deleted
            api.request("DELETE", path, step=step)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain(props)
        plugin_id = str(props.get("plugin_id", ""))
        step = "read service"
        with (
            self.guard(plugin_id=plugin_id, step=step),
            self.client(props, plugin_id=plugin_id, step=step) as api,
        ):
            listing = api.json("GET", f"{SERVICE_REGISTRY_PATH}/services", step=step, params={"pluginId": plugin_id})
        for service in listing.get("services", []):
            if service.get("serviceName") == props.get("service_name"):
                outputs = {
                    **self.inputs_to_outputs(props),
                    "endpoints": service["endpoints"],
                    "created_at": service.get("createdAt"),
                    "updated_at": service.get("updatedAt"),
                }
                return ReadResult(id_, outputs)
        return ReadResult("", {})

    def normalize(self, key: str, value: Any) -> Any:
        if key == "endpoints" and isinstance(value, list | tuple):
            return normalize_endpoints(value)
        return super().normalize(key, value)


class ServiceRegistration(CoreApiResource, module="plexica", name="ServiceRegistration"):
    """One service of a plugin and its endpoint URLs in the Core API's service registry.

    Outputs echo the inputs except `token`, plus `created_at` and `updated_at`;
    `endpoints` is what the registry holds.
    """

    plugin_id: pulumi.Output[str]
    service_name: pulumi.Output[str]
    endpoints: pulumi.Output[list[str]]
    core_api_url: pulumi.Output[str]
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
        token: pulumi.Input[str],
        insecure_skip_tls_verify: pulumi.Input[bool] = False,
        transport: TransportSettings | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "plugin_id": plugin_id,
            "service_name": service_name,
            "endpoints": endpoints,
            "core_api_url": core_api_url,
            "token": token,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            "created_at": None,
            "updated_at": None,
        }
        super().__init__(ServiceRegistrationProvider(transport), resource_name, props, opts)
