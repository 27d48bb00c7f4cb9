"""SQL of the tenant's change log: ``_changes`` (per record, the revision of its last visible
change) and ``_sync_state`` (the revision counter, the clock, the compaction horizon).

Revisions are handed out by one row per tenant, updated as the last statement before commit:
its row lock orders the tenant's writing transactions, so revisions become visible in the
order they were given and a reader never skips one that commits later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.collections.tables import Key
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident


async def append_changes(
    driver: asyncpg.Connection, tenant: Tenant, changes: Sequence[tuple[str, Key]], clock: str
) -> tuple[int, str]:
    """Give each changed record the next revision; the last one and the stored clock return.

    ``changes`` holds each (collection, key) once.
    """
    schema = quote_ident(tenant.name)
    row = await driver.fetchrow(
        f"WITH state AS (UPDATE {schema}._sync_state SET revision = revision + $1, "
        "clock = greatest(clock, $2) RETURNING revision, clock), "
        f"logged AS (INSERT INTO {schema}._changes (collection, key, revision) "
        "SELECT change ->> 0, change -> 1, state.revision - $1 + position "
        "FROM state, jsonb_array_elements(CAST($3 AS jsonb)) "
        "WITH ORDINALITY AS c(change, position) "
        "ON CONFLICT (collection, key) DO UPDATE SET revision = EXCLUDED.revision) "
        "SELECT revision, clock FROM state",
        len(changes),
        clock,
        json.dumps(list(changes)),
    )
    assert row is not None
    return int(row[0]), str(row[1])


async def forget_collection(connection: AsyncConnection, tenant: Tenant, name: str) -> None:
    """A dropped collection: its change log goes, and every cursor of it must start over."""
    schema = quote_ident(tenant.name)
    await connection.execute(
        text(
            f"WITH gone AS (DELETE FROM {schema}._changes WHERE collection = :name), "
            f"state AS (UPDATE {schema}._sync_state SET revision = revision + 1, "
            "horizon = greatest(horizon, revision + 1) RETURNING revision) "
            f"INSERT INTO {schema}._sync_collections (collection, horizon) "
            "SELECT :name, revision FROM state ON CONFLICT (collection) "
            "DO UPDATE SET horizon = EXCLUDED.horizon"
        ),
        {"name": name},
    )
