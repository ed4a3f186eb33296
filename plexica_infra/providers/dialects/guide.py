"""The `guide` dialect: the Core API contract of the deployment guide (our emulator's default).

- register: `POST /api/v1/plugins` with the manifest; 201 plugin; 409 `plugin_exists`.
- read: `GET /api/v1/plugins/{id}` (`state` field); 404 `plugin_not_found`.
- install / enable / disable: `POST /api/v1/plugins/{id}/<verb>`; uninstall `DELETE
  /api/v1/plugins/{id}` (from DISABLED, ends UNINSTALLED); each answers the plugin;
  an invalid transition is 409 `invalid_transition`.
- update: `POST /api/v1/plugins/{id}/update` with the manifest (health-checked swap).
- service registry: `POST /api/v1/service-registry` `{pluginId, serviceName, endpoints}`
  (upsert), `GET /api/v1/service-registry/services?pluginId=`, `DELETE
  /api/v1/service-registry/{pluginId}/{serviceName}` (404 when absent).
- errors: `{"error": code, "message": text}`; an expired token is 401 `token_expired`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from plexica_infra.contract import (
    GUIDE_LIFECYCLE,
    GUIDE_SERVICE_REGISTRY_PATH,
    PLUGINS_PATH,
    TRANSIENT_STATES,
    DialectName,
    ErrorKind,
    GuidePlugin,
    GuideService,
    GuideServiceList,
    GuideServiceRegistration,
    LifecycleMachine,
    Transition,
    classify_guide,
    plugin_path,
    segment,
)
from plexica_infra.providers._exceptions import CoreApiNotFoundError
from plexica_infra.providers.dialects._base import Dialect, PluginView, ServiceView

__all__ = ["GuideDialect"]


def _view(plugin: GuidePlugin) -> PluginView:
    return PluginView(plugin.id, plugin.state, plugin.version, plugin.manifest, plugin.created_at, plugin.updated_at)


def _service(service: GuideService) -> ServiceView:
    return ServiceView(
        service.plugin_id, service.service_name, list(service.endpoints), service.created_at, service.updated_at
    )


class GuideDialect(Dialect):
    name: ClassVar[DialectName] = "guide"
    machine: ClassVar[LifecycleMachine] = GUIDE_LIFECYCLE

    @staticmethod
    def classify(status: int, code: str, message: str) -> ErrorKind:
        return classify_guide(status, code, message)

    def get_plugin(self, plugin_id: str, step: str) -> PluginView | None:
        try:
            response = self.api.request("GET", plugin_path(plugin_id), step=step)
        except CoreApiNotFoundError:
            return None
        return _view(self.parse(GuidePlugin, response, step))

    def register(self, manifest: Mapping[str, Any]) -> PluginView | None:
        response = self.api.request("POST", PLUGINS_PATH, step="register", json_body=dict(manifest))
        return _view(self.parse(GuidePlugin, response, "register"))

    def act(self, transition: Transition, plugin_id: str) -> PluginView | None:
        step = transition.action.value
        response = self.api.request(
            transition.method,
            transition.path.format(id=segment(plugin_id)),
            step=step,
            lifecycle=transition.target in TRANSIENT_STATES,
        )
        return _view(self.parse(GuidePlugin, response, step))

    def update(self, plugin_id: str, manifest: Mapping[str, Any]) -> PluginView | None:
        response = self.api.request(
            "POST", plugin_path(plugin_id, "update"), step="update", json_body=dict(manifest), lifecycle=True
        )
        return _view(self.parse(GuidePlugin, response, "update"))

    def register_service(
        self, plugin_id: str, service_name: str, endpoints: Sequence[str], version: str, step: str
    ) -> ServiceView:
        body = GuideServiceRegistration(plugin_id=plugin_id, service_name=service_name, endpoints=list(endpoints))
        response = self.api.request(
            "POST", GUIDE_SERVICE_REGISTRY_PATH, step=step, json_body=body.model_dump(by_alias=True)
        )
        return _service(self.parse(GuideService, response, step))

    def read_service(self, plugin_id: str, service_name: str, step: str) -> ServiceView | None:
        response = self.api.request(
            "GET", f"{GUIDE_SERVICE_REGISTRY_PATH}/services", step=step, params={"pluginId": plugin_id}
        )
        for service in self.parse(GuideServiceList, response, step).services:
            if service.plugin_id == plugin_id and service.service_name == service_name:
                return _service(service)
        return None

    def remove_service(self, plugin_id: str, service_name: str, step: str) -> None:
        path = f"{GUIDE_SERVICE_REGISTRY_PATH}/{segment(plugin_id)}/{segment(service_name)}"
        with contextlib.suppress(CoreApiNotFoundError):  # already gone counts as removed
            self.api.request("DELETE", path, step=step)
