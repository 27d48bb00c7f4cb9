"""Which collections can sync: the one rule push and pull share."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections.catalogue_service import Catalogue
from webhost.data.collections.tables import RecordTable
from webhost.data.tenancy.scope import Tenant
from webhost.errors import InvalidInput


async def synced_table(
    connection: AsyncConnection, catalogue: Catalogue, tenant: Tenant, name: str
) -> RecordTable:
    """The collection's table; 404 when it does not exist, 422 when its keys cannot sync."""
    table = RecordTable(tenant, await catalogue.require(connection, tenant, name))
    if table.schema.auto_increment:
        raise InvalidInput(
            f"collection {name!r} numbers its records with ++{table.schema.primary_key}, so two "
            "offline clients would both create the same id; it cannot sync. Use "
            f"'@{table.schema.primary_key}' (the client generates a unique id) or "
            f"'{table.schema.primary_key}' (the app chooses the key) in a new collection"
        )
    return table
