"""Rules of collections: define (create or evolve indexes), look up, list and drop.

The caller's transaction is already tenant-scoped. Lookups go through the plane's cache of
parsed schemas; every change drops the cached copy here and, by the catalogue's change notice,
in every other plane.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections import catalogue_repository as repository
from webhost.data.collections import changes_repository
from webhost.data.collections.catalogue_cache import CollectionCache
from webhost.data.collections.database_errors import translate_errors
from webhost.data.collections.dexie_schema import (
    CollectionSchema,
    parse_schema,
    validate_collection_name,
)
from webhost.data.collections.tables import RecordTable, StoredCollection
from webhost.data.tenancy.scope import Tenant
from webhost.errors import Conflict, NotFound


class Catalogue:
    def __init__(self, cache: CollectionCache | None = None) -> None:
        self.cache = cache or CollectionCache()

    async def define(
        self, connection: AsyncConnection, tenant: Tenant, name: str, schema_source: str
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
        self.cache.forget(tenant, name)
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

    async def require(
        self, connection: AsyncConnection, tenant: Tenant, name: str
    ) -> StoredCollection:
        validate_collection_name(name)
        collection = self.cache.get(tenant, name)
        if collection is not None:
            return collection
        collection = await repository.find_collection(connection, tenant, name)
        if collection is None:
            raise NotFound(
                f"collection {name!r} does not exist; create it with PUT /v1/collections/{name}"
            )
        self.cache.put(tenant, collection)
        return collection

    async def list(self, connection: AsyncConnection, tenant: Tenant) -> list[StoredCollection]:
        return await repository.list_collections(connection, tenant)

    async def drop(self, connection: AsyncConnection, tenant: Tenant, name: str) -> None:
        validate_collection_name(name)
        await repository.lock_collection(connection, tenant, name)
        if await repository.find_collection(connection, tenant, name) is None:
            raise NotFound(f"collection {name!r} does not exist")
        self.cache.forget(tenant, name)
        await repository.drop_table(connection, tenant, name)
        await changes_repository.forget_collection(connection, tenant, name)


def _check_same_primary_key(name: str, current: CollectionSchema, new: CollectionSchema) -> None:
    if (current.primary_key, current.auto_increment) != (new.primary_key, new.auto_increment):
        before = ("++" if current.auto_increment else "") + current.primary_key
        after = ("++" if new.auto_increment else "") + new.primary_key
        raise Conflict(
            f"collection {name!r} has primary key {before!r}; it cannot change to {after!r} "
            "(create a new collection instead)"
        )
