"""The `plexica-v1` dialect: the real Plexica Core API (`apps/core-api`, Fastify).

Read from the public `plexica/plexica` repository (repo-relative paths; written from
what they do, none of their code):

- `apps/core-api/src/routes/plugin-v1.ts` (mounted under `/api/v1`, super-admin only):
  `POST /plugins` validates the manifest (400 `INVALID_MANIFEST`) and answers 201 with
  the stored row (`lifecycleStatus: "REGISTERED"`); a second registration of the same id
  is 400 `REGISTRATION_FAILED` "... is already registered" (never 409).
  `POST /plugins/:id/install|enable|disable` and `POST /plugins/:id/update`; errors are
  400 `INSTALL_FAILED` / `ENABLE_FAILED` ("already active") / `DISABLE_FAILED` /
  `UPDATE_FAILED`, 404 when the message says "not found". `DELETE /plugins/:id`
  disables an ACTIVE plugin first and leaves it REGISTERED (`{success: true}`).
  There is **no** `GET /plugins/:id` (route-not-found 404): a plugin is read from
  `GET /plugins` (`{plugins, total}`, `page`/`limit`, newest first).
- `apps/core-api/src/services/plugin.service.ts`: `VALID_TRANSITIONS` (the machine in
  `plexica_infra.contract.PLEXICA_V1_LIFECYCLE`), the "already ..." and "cannot
  transition from X to Y" messages, `validateManifest`'s extra requirements.
- `apps/core-api/src/routes/plugin-gateway.ts` and
  `apps/core-api/src/services/service-registry.service.ts`: the service registry is per
  tenant (`X-Tenant-Slug` header, 401 without): `POST
  /api/plugin-gateway/services/register` `{pluginId, serviceName, version, baseUrl?,
  endpoints?: [{method, path}], metadata?}` upserts and answers 201 `{success,
  serviceId}`; `GET /api/plugin-gateway/services?pluginId=` answers `{services, count}`;
  `DELETE /api/plugin-gateway/services/:pluginId/:serviceName` answers 200 even when
  nothing was there. One `baseUrl` per service: the instance URLs go in
  `metadata.instances` (our key), `baseUrl` is the first.
- `apps/core-api/src/middleware/auth.ts` and `apps/core-api/src/index.ts`: errors are
  `{error: {code, message}}`; an expired token is 401 `AUTH_TOKEN_EXPIRED`; every
  POST/PUT/PATCH/DELETE without `Authorization: Bearer` is refused by a CSRF hook (we
  always send it); an empty body declared as JSON is a 400, so body-less requests
  send no content type.

Where the guide says otherwise (409s, `state`, `GET /plugins/:id`, UNINSTALLED after
DELETE, `/api/v1/service-registry`), this dialect follows the source above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from plexica_infra.contract import (
    PLEXICA_V1_LIFECYCLE,
    PLUGINS_PATH,
    TENANT_HEADER,
    TRANSIENT_STATES,
    V1_INSTANCES_KEY,
    V1_SERVICE_REGISTER_PATH,
    V1_SERVICES_PATH,
    DialectName,
    ErrorKind,
    LifecycleMachine,
    Transition,
    V1Plugin,
    V1PluginList,
    V1Service,
    V1ServiceList,
    V1ServiceRegistered,
    V1ServiceRegistration,
    classify_v1,
    plugin_path,
    segment,
)
from plexica_infra.providers.dialects._base import Dialect, PluginView, ServiceView

__all__ = ["LIST_PAGE_SIZE", "MAX_LIST_PAGES", "PlexicaV1Dialect"]

#: `GET /api/v1/plugins` caps `limit` at 100.
LIST_PAGE_SIZE = 100
#: 100 pages of 100 plugins: a Core API with more is not one this tool can read.
MAX_LIST_PAGES = 100


def _view(plugin: V1Plugin) -> PluginView:
    return PluginView(
        plugin.id, plugin.lifecycle_status, plugin.version, plugin.manifest, plugin.created_at, plugin.updated_at
    )


def _service(service: V1Service) -> ServiceView:
    return ServiceView(service.plugin_id, service.service_name, service.instance_urls(), None, service.last_seen_at)


class PlexicaV1Dialect(Dialect):
    name: ClassVar[DialectName] = "plexica-v1"
    machine: ClassVar[LifecycleMachine] = PLEXICA_V1_LIFECYCLE

    @staticmethod
    def classify(status: int, code: str, message: str) -> ErrorKind:
        return classify_v1(status, code, message)

    @classmethod
    def headers(cls, tenant_slug: str) -> dict[str, str]:
        return {TENANT_HEADER: tenant_slug}

    def get_plugin(self, plugin_id: str, step: str) -> PluginView | None:
        seen = 0
        for page in range(1, MAX_LIST_PAGES + 1):
            response = self.api.request(
                "GET", PLUGINS_PATH, step=step, params={"page": str(page), "limit": str(LIST_PAGE_SIZE)}
            )
            listing = self.parse(V1PluginList, response, step)
            for plugin in listing.plugins:
                if plugin.id == plugin_id:
                    return _view(plugin)
            seen += len(listing.plugins)
            if not listing.plugins or seen >= listing.total:
                return None
        return None

    def register(self, manifest: Mapping[str, Any]) -> PluginView | None:
        response = self.api.request("POST", PLUGINS_PATH, step="register", json_body=dict(manifest))
        return _view(self.parse(V1Plugin, response, "register"))

    def act(self, transition: Transition, plugin_id: str) -> PluginView | None:
        step = transition.action.value
        # install answers an install record whose embedded state may still read INSTALLING,
        # DELETE only {success}: the plugin is read back instead.
        self.api.request(
            transition.method,
            transition.path.format(id=segment(plugin_id)),
            step=step,
            lifecycle=transition.target in TRANSIENT_STATES,
        )
        return self.get_plugin(plugin_id, step)

    def update(self, plugin_id: str, manifest: Mapping[str, Any]) -> PluginView | None:
        response = self.api.request(
            "POST", plugin_path(plugin_id, "update"), step="update", json_body=dict(manifest), lifecycle=True
        )
        return _view(self.parse(V1Plugin, response, "update"))

    def register_service(
        self, plugin_id: str, service_name: str, endpoints: Sequence[str], version: str, step: str
    ) -> ServiceView:
        body = V1ServiceRegistration(
            plugin_id=plugin_id,
            service_name=service_name,
            version=version,
            base_url=endpoints[0] if endpoints else None,
            metadata={V1_INSTANCES_KEY: list(endpoints)},
        )
        response = self.api.request(
            "POST", V1_SERVICE_REGISTER_PATH, step=step, json_body=body.model_dump(by_alias=True, exclude_none=True)
        )
        self.parse(V1ServiceRegistered, response, step)
        held = self.read_service(plugin_id, service_name, step)
        if held is None:
            return ServiceView(plugin_id, service_name, list(endpoints))
        return held

    def read_service(self, plugin_id: str, service_name: str, step: str) -> ServiceView | None:
        response = self.api.request("GET", V1_SERVICES_PATH, step=step, params={"pluginId": plugin_id})
        for service in self.parse(V1ServiceList, response, step).services:
            if service.plugin_id == plugin_id and service.service_name == service_name:
                return _service(service)
        return None

    def remove_service(self, plugin_id: str, service_name: str, step: str) -> None:
        self.api.request("DELETE", f"{V1_SERVICES_PATH}/{segment(plugin_id)}/{segment(service_name)}", step=step)
