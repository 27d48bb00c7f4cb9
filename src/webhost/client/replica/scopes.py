"""Which collections this replica syncs, with what filter, and how far each has pulled."""

from __future__ import annotations

import sqlite3

from webhost.client.replica import record_rows
from webhost.client.replica.state import ReplicaState, Scope
from webhost.data.collections.dexie_schema import parse_schema


def load(connection: sqlite3.Connection) -> dict[str, Scope]:
    rows = connection.execute("SELECT collection, schema, filter, cursor FROM scopes").fetchall()
    return {
        name: Scope(name, parse_schema(schema), filter_, cursor)
        for name, schema, filter_, cursor in rows
    }


def save(state: ReplicaState, scope: Scope) -> None:
    """Store a scope; a changed filter starts its collection over (the old cursor is of no use
    and the records that matched only the old filter must go)."""
    previous = state.scopes.get(scope.collection)
    record_rows.create_table(state.connection, scope.collection)
    if previous is not None and previous.filter != scope.filter:
        scope.cursor = None
        record_rows.forget_server_copies(state.connection, scope)
    elif previous is not None:
        scope.cursor = previous.cursor
    state.connection.execute(
        "INSERT INTO scopes (collection, schema, filter, cursor) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (collection) DO UPDATE SET schema = excluded.schema, "
        "filter = excluded.filter, cursor = excluded.cursor",
        (scope.collection, scope.schema.source, scope.filter, scope.cursor),
    )
    state.scopes[scope.collection] = scope


def move_cursor(state: ReplicaState, collection: str, cursor: str) -> None:
    state.connection.execute(
        "UPDATE scopes SET cursor = ? WHERE collection = ?", (cursor, collection)
    )
    state.scopes[collection].cursor = cursor
