"""The records of one replicated collection: a table per collection, a row per key.

``base`` is the record as the server last told it (``NULL``: none, or deleted), ``record``
what the app sees: the base with the outbox's writes to that key on top. A row with neither is
not kept. Keys are JSON text, so the number 7 and the string "7" stay apart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from webhost.client.records import Record, record_text
from webhost.client.replica import outbox
from webhost.client.replica.state import Scope
from webhost.data.collections.dexie_schema import validate_collection_name


def table(collection: str) -> str:
    """A quoted table name; collection names are letters, digits and underscores."""
    validate_collection_name(collection)
    return f'"records_{collection}"'


def create_table(connection: sqlite3.Connection, collection: str) -> None:
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {table(collection)} "
        "(key TEXT PRIMARY KEY, base TEXT, record TEXT)"
    )


def live(connection: sqlite3.Connection, collection: str, key: str) -> Record | None:
    row = connection.execute(
        f"SELECT record FROM {table(collection)} WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None or row[0] is None else _loads(row[0])


def base(connection: sqlite3.Connection, collection: str, key: str) -> Record | None:
    row = connection.execute(
        f"SELECT base FROM {table(collection)} WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None or row[0] is None else _loads(row[0])


def every_live(connection: sqlite3.Connection, collection: str) -> Iterator[Record]:
    cursor = connection.execute(
        f"SELECT record FROM {table(collection)} WHERE record IS NOT NULL ORDER BY key"
    )
    try:
        for (text,) in cursor:
            yield _loads(text)
    finally:
        cursor.close()


def set_live(
    connection: sqlite3.Connection, collection: str, key: str, record: Record | None
) -> None:
    """A local write: what the app sees changes, the server's copy does not."""
    connection.execute(
        f"INSERT INTO {table(collection)} (key, base, record) VALUES (?, NULL, ?) "
        "ON CONFLICT (key) DO UPDATE SET record = excluded.record",
        (key, None if record is None else record_text(record)),
    )
    _drop_if_empty(connection, collection, key)


def rebase(connection: sqlite3.Connection, scope: Scope, key: str, server: Record | None) -> None:
    """The server's copy of a record, with this replica's pending writes to it on top."""
    shown = server
    for mutation in outbox.pending_for(connection, scope.collection, key):
        shown = mutation.applied_to(shown, scope.primary_key)
    connection.execute(
        f"INSERT INTO {table(scope.collection)} (key, base, record) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET base = excluded.base, record = excluded.record",
        (
            key,
            None if server is None else record_text(server),
            None if shown is None else record_text(shown),
        ),
    )
    _drop_if_empty(connection, scope.collection, key)


def forget_server_copies(connection: sqlite3.Connection, scope: Scope) -> None:
    """A collection starting over: every record goes but what pending writes make."""
    name = table(scope.collection)
    pending = outbox.pending_keys(connection, scope.collection)
    connection.execute(
        f"DELETE FROM {name} WHERE key NOT IN (SELECT key FROM outbox WHERE collection = ?)",
        (scope.collection,),
    )
    for key in pending:
        rebase(connection, scope, key, None)


def _drop_if_empty(connection: sqlite3.Connection, collection: str, key: str) -> None:
    connection.execute(
        f"DELETE FROM {table(collection)} WHERE key = ? AND base IS NULL AND record IS NULL",
        (key,),
    )


def _loads(text: str) -> Record:
    record: Record = json.loads(text)
    return record
