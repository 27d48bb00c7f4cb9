"""Rules of records over REST; the caller's transaction is already tenant-scoped."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import limits
from webhost.data.collections import record_repository as repository
from webhost.data.collections.database_errors import translate_errors
from webhost.data.collections.query import ListQuery
from webhost.data.collections.tables import RecordTable
from webhost.errors import InvalidInput, NotFound


async def create_record(
    connection: AsyncConnection, table: RecordTable, body: dict[str, Any]
) -> str:
    data = dict(body)
    pk = _body_key(table, data.pop(table.schema.primary_key, None))
    if pk is None and not table.schema.auto_increment:
        pk = str(uuid.uuid4())
    if pk is not None and (problem := limits.new_key_problem(table.schema, pk)):
        raise InvalidInput(problem)
    _check_indexed_values(table, data)
    with translate_errors(table.collection, key=pk):
        return await repository.insert_record(connection, table, pk, data)


async def put_record(
    connection: AsyncConnection, table: RecordTable, record_id: str, body: dict[str, Any]
) -> tuple[str, bool]:
    """Create or replace the record with this id (Dexie's ``put``); True when created."""
    pk = table.pk_value(record_id)
    data = dict(body)
    if (
        table.schema.primary_key in data
        and _body_key(table, data.pop(table.schema.primary_key)) != pk
    ):
        raise InvalidInput(f"{table.schema.primary_key} in the body differs from the URL")
    _check_indexed_values(table, data)
    problem = limits.new_key_problem(table.schema, pk)
    with translate_errors(table.collection, key=pk):
        if problem is None:
            return await repository.upsert_record(connection, table, pk, data)
        # the limit is on new keys: a record that has this key keeps it
        if await repository.fetch_record(connection, table, pk, for_update=True) is None:
            raise InvalidInput(problem)
        return await repository.replace_data(connection, table, pk, data), False


async def get_record(connection: AsyncConnection, table: RecordTable, record_id: str) -> str:
    with translate_errors(table.collection):
        record = await repository.fetch_record(connection, table, table.pk_value(record_id))
    if record is None:
        raise NotFound(f"no record {_shown(record_id)} in collection {table.collection.name!r}")
    return record


async def patch_record(
    connection: AsyncConnection, table: RecordTable, record_id: str, patch: dict[str, Any]
) -> str:
    """Apply a JSON merge patch (RFC 7386): null removes a field."""
    pk = table.pk_value(record_id)
    with translate_errors(table.collection):
        current = await repository.fetch_record(connection, table, pk, for_update=True)
    if current is None:
        raise NotFound(f"no record {_shown(record_id)} in collection {table.collection.name!r}")
    changes = dict(patch)
    if (
        table.schema.primary_key in changes
        and _body_key(table, changes.pop(table.schema.primary_key)) != pk
    ):
        raise InvalidInput(f"{table.schema.primary_key} cannot be changed")
    data = json.loads(current)
    data.pop(table.schema.primary_key, None)
    merged = merge_patch(data, changes)
    _check_indexed_values(table, merged, before=data)
    with translate_errors(table.collection, key=pk):
        return await repository.replace_data(connection, table, pk, merged)


async def delete_record(connection: AsyncConnection, table: RecordTable, record_id: str) -> None:
    with translate_errors(table.collection):
        deleted = await repository.delete_record(connection, table, table.pk_value(record_id))
    if not deleted:
        raise NotFound(f"no record {_shown(record_id)} in collection {table.collection.name!r}")


async def list_records(connection: AsyncConnection, table: RecordTable, query: ListQuery) -> str:
    with translate_errors(table.collection):
        return await repository.list_records(connection, table, query)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _body_key(table: RecordTable, value: Any) -> int | str | None:
    """A primary key given in a record body must have the key's exact JSON type."""
    key = table.schema.primary_key
    if value is None:
        return None
    if table.schema.auto_increment:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{key} must be an integer (it is auto-incremented)")
        return table.pk_value(value)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{key} must be a non-empty string")
    return value


def _check_indexed_values(
    table: RecordTable, data: dict[str, Any], *, before: dict[str, Any] | None = None
) -> None:
    problem = limits.indexed_values_problem(table.schema, data, before=before)
    if problem is not None:
        raise InvalidInput(problem)


def _shown(record_id: str) -> str:
    """An id for a message: long ones are cut, the message need not echo kilobytes."""
    return repr(record_id) if len(record_id) <= 100 else repr(record_id[:100]) + "..."
