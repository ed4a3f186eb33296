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

from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._core_api_provider import CoreApiProvider, CoreApiResource
from plexica_infra.providers._inputs import ServiceRegistrationInputs
from plexica_infra.providers._props import plain
from plexica_infra.providers.dialects import Dialect, ServiceView

__all__ = ["ServiceRegistration", "ServiceRegistrationProvider", "normalize_endpoints"]


def normalize_endpoints(endpoints: Sequence[str]) -> list[str]:
    """Endpoints without trailing slashes and repeats, in their given order."""
    return list(ServiceRegistrationInputs.normalize("endpoints", list(endpoints)))


def _observed(service: ServiceView) -> dict[str, Any]:
    return {"endpoints": service.endpoints, "created_at": service.created_at, "updated_at": service.updated_at}


class ServiceRegistrationProvider(CoreApiProvider):
    """Dynamic provider behind `ServiceRegistration` (usable directly in tests)."""

    INPUTS = ServiceRegistrationInputs
    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "service_name", "core_api_url", "dialect"})

    def _register(self, props: dict[str, Any], step: str) -> dict[str, Any]:
        spec = ServiceRegistrationInputs.from_props(props, step)
        with self.dialect(props, plugin_id=spec.plugin_id, step=step) as dialect:
            service = dialect.register_service(spec.plugin_id, spec.service_name, spec.endpoints, spec.version, step)
        return {**spec.inputs(), **_observed(service)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._register(props, "register service")
        return CreateResult(f"{outputs['plugin_id']}/{outputs['service_name']}", outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._register(_news, "re-register service"))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        service_name = str(plain(_props).get("service_name", ""))

        def deregister(dialect: Dialect, plugin_id: str) -> None:
            dialect.remove_service(plugin_id, service_name, "deregister service")

        left = (
            f"service {service_name} of {{plugin_id}} was NOT removed from the registry of the Core API at "
            "{url}: remove it there once the Core API is back"
        )
        self.remove(_id, _props, "deregister service", deregister, left)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        service_name = str(plain(props).get("service_name", ""))

        def look(dialect: Dialect, plugin_id: str) -> dict[str, Any] | None:
            service = dialect.read_service(plugin_id, service_name, "read service")
            return None if service is None else _observed(service)

        return self.observe(id_, props, "read service", look, "service")


class ServiceRegistration(CoreApiResource, module="plexica", name="ServiceRegistration"):
    """One service of a plugin and its endpoint URLs in the Core API's service registry.

    Inputs: the fields of `ServiceRegistrationInputs`. Outputs echo the inputs except
    the secrets, plus `created_at` and `updated_at`; `endpoints` is what the registry holds.
    """

    PROVIDER = ServiceRegistrationProvider

    plugin_id: pulumi.Output[str]
    service_name: pulumi.Output[str]
    endpoints: pulumi.Output[list[str]]
    version: pulumi.Output[str]
    core_api_url: pulumi.Output[str]
    dialect: pulumi.Output[str]
    insecure_skip_tls_verify: pulumi.Output[bool]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]
