"""What the store keeps: plugin and service records, and how a SQLite row becomes one."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from plexica_infra.contract import LifecycleState

__all__ = ["PluginExistsError", "PluginRecord", "ServiceRecord", "plugin_from_row", "service_from_row", "utc_now"]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class PluginRecord:
    id: str
    name: str
    version: str
    state: LifecycleState
    manifest: dict[str, Any]
    created_at: str
    updated_at: str
    state_changed_at: str
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "state": self.state.value,
            "manifest": self.manifest,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "stateChangedAt": self.state_changed_at,
            "lastError": self.last_error,
        }


@dataclass(frozen=True)
class ServiceRecord:
    plugin_id: str
    service_name: str
    endpoints: list[str]
    created_at: str
    updated_at: str
    #: What the plexica-v1 registry keeps besides the endpoints (tenant, version, baseUrl,
    #: metadata); {} for the guide's.
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "pluginId": self.plugin_id,
            "serviceName": self.service_name,
            "endpoints": list(self.endpoints),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


class PluginExistsError(Exception):
    def __init__(self, record: PluginRecord) -> None:
        super().__init__(record.id)
        self.record = record


def plugin_from_row(row: sqlite3.Row) -> PluginRecord:
    return PluginRecord(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        state=LifecycleState(row["state"]),
        manifest=json.loads(row["manifest"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        state_changed_at=row["state_changed_at"],
        last_error=row["last_error"],
    )


def service_from_row(row: sqlite3.Row) -> ServiceRecord:
    return ServiceRecord(
        plugin_id=row["plugin_id"],
        service_name=row["service_name"],
        endpoints=json.loads(row["endpoints"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        details=json.loads(row["details"]),
    )
