"""Rules of collections: define (create or evolve indexes), look up, list and drop.

The caller's transaction is already tenant-scoped.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import catalogue_repository as repository
from webhost.data.collections.database_errors import translate_errors
from webhost.data.collections.dexie_schema import (
    CollectionSchema,
    parse_schema,
    validate_collection_name,
)
from webhost.data.collections.tables import RecordTable, StoredCollection
from webhost.data.tenancy.scope import Tenant
from webhost.errors import Conflict, NotFound


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
    with translate_errors(desired):
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
