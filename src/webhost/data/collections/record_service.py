"""Rules of records over REST; the caller's transaction is already tenant-scoped.

Every write is a mutation through the one write path (writes.py), stamped by the server's
clock, so REST writes and sync pushes are the same writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import record_repository as repository
from webhost.data.collections.database_errors import translate_errors
from webhost.data.collections.query import ListQuery
from webhost.data.collections.tables import Key, RecordTable, no_record
from webhost.data.collections.writes import Mutation, MutationKind, Outcome, RecordWriter
from webhost.errors import InvalidInput


async def create_record(
    connection: AsyncConnection, writer: RecordWriter, table: RecordTable, body: dict[str, Any]
) -> str:
    values = dict(body)
    given = values.pop(table.schema.primary_key, None)
    key = None if given is None else table.body_key(given)
    outcome = await _write(connection, writer, table, "insert", key, values, expect="absent")
    return _record(outcome)


async def put_record(
    connection: AsyncConnection,
    writer: RecordWriter,
    table: RecordTable,
    record_id: str,
    body: dict[str, Any],
) -> tuple[str, bool]:
    """Create or replace the record with this id (Dexie's ``put``); True when created."""
    candidates = table.url_keys(record_id)
    values = dict(body)
    if table.schema.primary_key in values:
        key = table.body_key(values.pop(table.schema.primary_key))
        if key not in candidates:  # strings never equal numbers
            raise InvalidInput(f"{table.schema.primary_key} in the body differs from the URL")
    else:
        existing = await _existing_key(connection, table, candidates)
        key = candidates[0] if existing is None else existing
    outcome = await _write(connection, writer, table, "put", key, values)
    return _record(outcome), outcome.created


async def get_record(connection: AsyncConnection, table: RecordTable, record_id: str) -> str:
    with translate_errors(table.collection):
        found = await repository.fetch_live(connection, table, table.url_keys(record_id))
    if found is None:
        raise no_record(table.collection.name, record_id)
    return found[1]


async def patch_record(
    connection: AsyncConnection,
    writer: RecordWriter,
    table: RecordTable,
    record_id: str,
    patch: dict[str, Any],
) -> str:
    """Apply a JSON merge patch (RFC 7386): null removes a field."""
    key = await _require_key(connection, table, record_id)
    changes = dict(patch)
    primary_key = table.schema.primary_key
    if primary_key in changes and table.body_key(changes.pop(primary_key)) != key:
        raise InvalidInput(f"{table.schema.primary_key} cannot be changed")
    removed = tuple(name for name, value in changes.items() if value is None)
    values = {name: value for name, value in changes.items() if value is not None}
    outcome = await _write(
        connection, writer, table, "update", key, values, removed, expect="alive", merge=True
    )
    if outcome.record is None and outcome.error is None:
        # a patch that changes nothing ({}) writes nothing: the record is as it was
        return await get_record(connection, table, record_id)
    return _record(outcome)


async def delete_record(
    connection: AsyncConnection, writer: RecordWriter, table: RecordTable, record_id: str
) -> None:
    key = await _require_key(connection, table, record_id)
    await _write(connection, writer, table, "delete", key, expect="alive")


async def list_records(connection: AsyncConnection, table: RecordTable, query: ListQuery) -> str:
    with translate_errors(table.collection):
        return await repository.list_records(connection, table, query)


async def _write(
    connection: AsyncConnection,
    writer: RecordWriter,
    table: RecordTable,
    kind: MutationKind,
    key: Key | None,
    values: dict[str, Any] | None = None,
    removed: tuple[str, ...] = (),
    *,
    expect: Any = "any",
    merge: bool = False,
) -> Outcome:
    mutation = Mutation(table, kind, key, values or {}, removed, expect=expect, merge_nested=merge)
    (outcome,) = await writer.write(connection, table.tenant, [mutation])
    if outcome.error is not None:
        raise outcome.error
    return outcome


async def _existing_key(
    connection: AsyncConnection, table: RecordTable, candidates: list[Key]
) -> Key | None:
    with translate_errors(table.collection):
        found = await repository.fetch_live(connection, table, candidates)
    return None if found is None else found[0]


async def _require_key(connection: AsyncConnection, table: RecordTable, record_id: str) -> Key:
    key = await _existing_key(connection, table, table.url_keys(record_id))
    if key is None:
        raise no_record(table.collection.name, record_id)
    return key


def _record(outcome: Outcome) -> str:
    if outcome.record is None:
        raise RuntimeError("a REST write must leave a live record")
    return outcome.record
