"""SQLite persistence for plugins and the service registry (stdlib sqlite3).

The emulator runs one asyncio event loop, and every store call is a short
synchronous statement, so a check-and-set (`UPDATE ... WHERE state = ?`) cannot
interleave with another request. A lock still guards the one connection so the
store is also safe to use from threads (tests, tools).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from plexica_infra.contract import LifecycleState
from plexica_infra.core_api._records import (
    PluginExistsError,
    PluginRecord,
    ServiceRecord,
    plugin_from_row,
    service_from_row,
    utc_now,
)

__all__ = ["Store"]

_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS plugins (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    version          TEXT NOT NULL,
    state            TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    state_changed_at TEXT NOT NULL,
    last_error       TEXT
);
CREATE TABLE IF NOT EXISTS services (
    plugin_id    TEXT NOT NULL,
    service_name TEXT NOT NULL,
    endpoints    TEXT NOT NULL,
    details      TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (plugin_id, service_name)
);
"""


class Store:
    """Plugins and services, kept in one SQLite file (`:memory:` keeps nothing)."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL still survives a crash of this process (the
                # restart the emulator must survive); it skips the fsync per commit
                # that only a power loss would need.
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(services)")}
            if "details" not in columns:  # a database of schema version 1
                self._db.execute("ALTER TABLE services ADD COLUMN details TEXT NOT NULL DEFAULT '{}'")
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Plugins -------------------------------------------------------------------------------

    def get_plugin(self, plugin_id: str) -> PluginRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM plugins WHERE id = ?", (plugin_id,)).fetchone()
        return plugin_from_row(row) if row else None

    def list_plugins(self, state: LifecycleState | None = None) -> list[PluginRecord]:
        with self._lock:
            if state is None:
                rows = self._db.execute("SELECT * FROM plugins ORDER BY id").fetchall()
            else:
                rows = self._db.execute("SELECT * FROM plugins WHERE state = ? ORDER BY id", (state.value,)).fetchall()
        return [plugin_from_row(row) for row in rows]

    def register(self, manifest: dict[str, Any]) -> PluginRecord:
        """Insert a plugin as REGISTERED, or re-register one that is UNINSTALLED.

        Raises PluginExistsError (with the current record) otherwise.
        """
        now = utc_now()
        plugin_id = str(manifest["id"])
        with self._transaction() as db:
            row = db.execute("SELECT * FROM plugins WHERE id = ?", (plugin_id,)).fetchone()
            if row is not None and row["state"] != LifecycleState.UNINSTALLED:
                raise PluginExistsError(plugin_from_row(row))
            db.execute(
                "INSERT OR REPLACE INTO plugins (id, name, version, state, manifest, created_at,"
                " updated_at, state_changed_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    plugin_id,
                    str(manifest["name"]),
                    str(manifest["version"]),
                    LifecycleState.REGISTERED.value,
                    json.dumps(manifest),
                    now,
                    now,
                    now,
                ),
            )
            created = db.execute("SELECT * FROM plugins WHERE id = ?", (plugin_id,)).fetchone()
        return plugin_from_row(created)

    def transition(
        self,
        plugin_id: str,
        source: LifecycleState,
        target: LifecycleState,
        *,
        last_error: str | None = None,
    ) -> PluginRecord | None:
        """Move a plugin from `source` to `target`; None when it is not in `source` any more."""
        now = utc_now()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE plugins SET state = ?, updated_at = ?, state_changed_at = ?, last_error = ?"
                " WHERE id = ? AND state = ?",
                (target.value, now, now, last_error, plugin_id, source.value),
            )
            if cursor.rowcount != 1:
                return None
            row = db.execute("SELECT * FROM plugins WHERE id = ?", (plugin_id,)).fetchone()
        return plugin_from_row(row)

    def replace_manifest(
        self, plugin_id: str, expected_state: LifecycleState, manifest: dict[str, Any]
    ) -> PluginRecord | None:
        """Switch a plugin to a new manifest and version, keeping its state.

        None when the plugin left `expected_state` meanwhile.
        """
        now = utc_now()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE plugins SET name = ?, version = ?, manifest = ?, updated_at = ?,"
                " last_error = NULL WHERE id = ? AND state = ?",
                (
                    str(manifest["name"]),
                    str(manifest["version"]),
                    json.dumps(manifest),
                    now,
                    plugin_id,
                    expected_state.value,
                ),
            )
            if cursor.rowcount != 1:
                return None
            row = db.execute("SELECT * FROM plugins WHERE id = ?", (plugin_id,)).fetchone()
        return plugin_from_row(row)

    def set_last_error(self, plugin_id: str, message: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE plugins SET last_error = ?, updated_at = ? WHERE id = ?",
                (message, utc_now(), plugin_id),
            )

    def recover_interrupted(self) -> list[tuple[str, LifecycleState, LifecycleState]]:
        """Settle plugins a previous process left in a transient state.

        An install cut short never passed its health check, so it goes back to
        REGISTERED ("installation failed"); an uninstall had nothing left to do
        but finish, so it completes to UNINSTALLED.
        """
        moves = {
            LifecycleState.INSTALLING: LifecycleState.REGISTERED,
            LifecycleState.UNINSTALLING: LifecycleState.UNINSTALLED,
        }
        recovered: list[tuple[str, LifecycleState, LifecycleState]] = []
        for source, target in moves.items():
            for record in self.list_plugins(source):
                note = "install interrupted by a Core API restart" if target is LifecycleState.REGISTERED else None
                if self.transition(record.id, source, target, last_error=note):
                    recovered.append((record.id, source, target))
        return recovered

    # Service registry ----------------------------------------------------------------------

    def upsert_service(
        self, plugin_id: str, service_name: str, endpoints: list[str], details: dict[str, Any] | None = None
    ) -> tuple[ServiceRecord, bool]:
        """Create or replace one service's endpoints (and details); True when it was created."""
        now = utc_now()
        extra = json.dumps(details or {})
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM services WHERE plugin_id = ? AND service_name = ?",
                (plugin_id, service_name),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO services (plugin_id, service_name, endpoints, details, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (plugin_id, service_name, json.dumps(endpoints), extra, now, now),
                )
            elif json.loads(row["endpoints"]) != endpoints or json.loads(row["details"]) != (details or {}):
                db.execute(
                    "UPDATE services SET endpoints = ?, details = ?, updated_at = ?"
                    " WHERE plugin_id = ? AND service_name = ?",
                    (json.dumps(endpoints), extra, now, plugin_id, service_name),
                )
            saved = db.execute(
                "SELECT * FROM services WHERE plugin_id = ? AND service_name = ?",
                (plugin_id, service_name),
            ).fetchone()
        return service_from_row(saved), row is None

    def list_services(self, plugin_id: str | None = None) -> list[ServiceRecord]:
        with self._lock:
            if plugin_id is None:
                rows = self._db.execute("SELECT * FROM services ORDER BY plugin_id, service_name").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM services WHERE plugin_id = ? ORDER BY service_name",
                    (plugin_id,),
                ).fetchall()
        return [service_from_row(row) for row in rows]

    def delete_services(self, plugin_id: str, service_name: str | None = None) -> list[ServiceRecord]:
        """Remove one service, or every service of a plugin; returns what was removed."""
        with self._transaction() as db:
            args: tuple[str, ...] = (plugin_id,)
            where = "plugin_id = ?"
            if service_name is not None:
                where, args = "plugin_id = ? AND service_name = ?", (plugin_id, service_name)
            rows = db.execute(f"SELECT * FROM services WHERE {where}", args).fetchall()
            db.execute(f"DELETE FROM services WHERE {where}", args)
        return [service_from_row(row) for row in rows]

    def endpoints(self, plugin_id: str) -> list[str]:
        """Every registered endpoint of a plugin, over all its services, without repeats."""
        seen: dict[str, None] = {}
        for service in self.list_services(plugin_id):
            for endpoint in service.endpoints:
                seen.setdefault(endpoint, None)
        return list(seen)
