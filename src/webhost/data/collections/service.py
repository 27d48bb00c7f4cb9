"""Rules of collections and their records; the caller's transaction is already tenant-scoped."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import limits, repository
from webhost.data.collections.dexie_schema import (
    CollectionSchema,
    parse_schema,
    validate_collection_name,
)
from webhost.data.collections.query import ListQuery
from webhost.data.collections.repository import RecordTable, StoredCollection
from webhost.data.tenancy.scope import Tenant
from webhost.errors import Conflict, IdsExhausted, InvalidInput, NotFound


async def define_collection(
    connection: AsyncConnection, tenant: Tenant, name: str, schema_source: str
) -> tuple[StoredCollection, bool]:
    """Create the collection, or evolve its indexes; True when it was created."""
    validate_collection_name(name)
    schema = parse_schema(schema_source)
    await repository.lock_collection(connection, tenant, name)
    existing = await repository.find_collection(connection, tenant, name)
    desired = StoredCollection(
        name=name,
        schema=schema,
        index_names={index.source: index.sql_name(name) for index in schema.indexes},
    )
    table = RecordTable(tenant, desired)
    with _translate_errors(desired):
        if existing is None:
            await repository.create_table(connection, tenant, desired)
            for index in schema.indexes:
                await repository.create_index(
                    connection, table, index, desired.index_names[index.source]
                )
        else:
            _check_same_primary_key(name, existing.schema, schema)
            for source, index_name in existing.index_names.items():
                if source not in desired.index_names:
                    await repository.drop_index(connection, tenant, index_name)
            for index in schema.indexes:
                if index.source not in existing.index_names:
                    await repository.create_index(
                        connection, table, index, desired.index_names[index.source]
                    )
        await repository.save_collection(connection, tenant, desired)
    return desired, existing is None


def _check_same_primary_key(name: str, current: CollectionSchema, new: CollectionSchema) -> None:
    if (current.primary_key, current.auto_increment) != (new.primary_key, new.auto_increment):
        before = ("++" if current.auto_increment else "") + current.primary_key
        after = ("++" if new.auto_increment else "") + new.primary_key
        raise Conflict(
            f"collection {name!r} has primary key {before!r}; it cannot change to {after!r} "
            "(create a new collection instead)"
        )


async def require_collection(
    connection: AsyncConnection, tenant: Tenant, name: str
) -> StoredCollection:
    validate_collection_name(name)
    collection = await repository.find_collection(connection, tenant, name)
    if collection is None:
        raise NotFound(
            f"collection {name!r} does not exist; create it with PUT /v1/collections/{name}"
        )
    return collection


async def list_collections(connection: AsyncConnection, tenant: Tenant) -> list[StoredCollection]:
    return await repository.list_collections(connection, tenant)


async def drop_collection(connection: AsyncConnection, tenant: Tenant, name: str) -> None:
    await require_collection(connection, tenant, name)
    await repository.lock_collection(connection, tenant, name)
    await repository.drop_table(connection, tenant, name)


async def create_record(
    connection: AsyncConnection, tenant: Tenant, name: str, body: dict[str, Any]
) -> str:
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    data = dict(body)
    pk = _body_key(table, data.pop(table.schema.primary_key, None))
    if pk is None and not table.schema.auto_increment:
        pk = str(uuid.uuid4())
    if pk is not None and (problem := limits.new_key_problem(table.schema, pk)):
        raise InvalidInput(problem)
    _check_indexed_values(table, data)
    with _translate_errors(table.collection, key=pk):
        return await repository.insert_record(connection, table, pk, data)


async def put_record(
    connection: AsyncConnection, tenant: Tenant, name: str, record_id: str, body: dict[str, Any]
) -> tuple[str, bool]:
    """Create or replace the record with this id (Dexie's ``put``); True when created."""
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    pk = table.pk_value(record_id)
    data = dict(body)
    if (
        table.schema.primary_key in data
        and _body_key(table, data.pop(table.schema.primary_key)) != pk
    ):
        raise InvalidInput(f"{table.schema.primary_key} in the body differs from the URL")
    _check_indexed_values(table, data)
    problem = limits.new_key_problem(table.schema, pk)
    with _translate_errors(table.collection, key=pk):
        if problem is None:
            return await repository.upsert_record(connection, table, pk, data)
        # the limit is on new keys: a record that has this key keeps it
        if await repository.fetch_record(connection, table, pk, for_update=True) is None:
            raise InvalidInput(problem)
        return await repository.replace_data(connection, table, pk, data), False


async def get_record(connection: AsyncConnection, tenant: Tenant, name: str, record_id: str) -> str:
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    record = await repository.fetch_record(connection, table, table.pk_value(record_id))
    if record is None:
        raise NotFound(f"no record {_shown(record_id)} in collection {name!r}")
    return record


async def patch_record(
    connection: AsyncConnection, tenant: Tenant, name: str, record_id: str, patch: dict[str, Any]
) -> str:
    """Apply a JSON merge patch (RFC 7386): null removes a field."""
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    pk = table.pk_value(record_id)
    current = await repository.fetch_record(connection, table, pk, for_update=True)
    if current is None:
        raise NotFound(f"no record {_shown(record_id)} in collection {name!r}")
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
    with _translate_errors(table.collection, key=pk):
        return await repository.replace_data(connection, table, pk, merged)


async def delete_record(
    connection: AsyncConnection, tenant: Tenant, name: str, record_id: str
) -> None:
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    if not await repository.delete_record(connection, table, table.pk_value(record_id)):
        raise NotFound(f"no record {_shown(record_id)} in collection {name!r}")


async def list_records(
    connection: AsyncConnection, tenant: Tenant, name: str, query: ListQuery
) -> str:
    table = RecordTable(tenant, await require_collection(connection, tenant, name))
    with _translate_errors(table.collection):
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


@contextmanager
def _translate_errors(collection: StoredCollection, *, key: object = None) -> Iterator[None]:
    """Turn constraint and data errors from PostgreSQL into clear client errors."""
    try:
        yield
    except DBAPIError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        cause = exc.orig.__cause__ if exc.orig is not None else None
        if sqlstate == "2200H":  # sequence_generator_limit_exceeded
            raise IdsExhausted(
                f"collection {collection.name!r} has handed out its last auto-increment id; "
                f"add records with ids of your own (at most {limits.MAX_EXPLICIT_ID}) "
                "or move them to a new collection"
            ) from exc
        if sqlstate == "23505":
            constraint = getattr(cause, "constraint_name", "") or ""
            raise Conflict(_duplicate_message(collection, constraint, key)) from exc
        if sqlstate.startswith("54"):  # program_limit_exceeded and kin
            detail = getattr(cause, "message", None) or "a database limit"
            raise InvalidInput(_limit_message(collection, detail)) from exc
        if sqlstate.startswith("22"):
            detail = getattr(cause, "message", None) or "invalid value"
            raise InvalidInput(f"record rejected by the database: {detail}") from exc
        raise


def _limit_message(collection: StoredCollection, detail: str) -> str:
    """PostgreSQL's own size limit on index entries, named in the collection's terms."""
    match = re.search(r'index row .* for index "([^"]+)"', detail)
    if match is None:
        return f"record rejected by the database: {detail}"
    sources = {name: source for source, name in collection.index_names.items()}
    index = sources.get(match.group(1), collection.schema.primary_key)
    return (
        f"a value is too large for index {index!r}: PostgreSQL index entries hold at most "
        f"{limits.POSTGRES_INDEX_ENTRY_BYTES} bytes; keep indexed values and ids within "
        f"{limits.MAX_INDEXED_BYTES} bytes"
    )


def _duplicate_message(collection: StoredCollection, constraint: str, key: object) -> str:
    for source, index_name in collection.index_names.items():
        if index_name == constraint:
            return f"another record already has this value for unique index {source!r}"
    if key is not None:
        return f"a record with {collection.schema.primary_key} {key!r} already exists"
    return "a unique constraint was violated"
