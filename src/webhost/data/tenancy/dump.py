"""A frozen tenant's data as one stream (``dump_frames``), for a plane on another server.

Read in the caller's snapshot (a REPEATABLE READ, read-only transaction as the administrator),
so the dump is of one moment. The catalogue of collections comes first: the restoring plane
makes each collection's table from it before their rows arrive. Generated columns are left
out (the target computes its own, with or without PostGIS).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import partitions
from webhost.data.tenancy import transfer
from webhost.data.tenancy.dump_frames import frame, opening
from webhost.data.tenancy.freeze import qualified, tenant_tables
from webhost.data.tenancy.management import CATALOGUE_SCHEMA
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident

CATALOGUE_TABLE = "_collections"
_PIPE_DEPTH = 64


def dump_order(tables: list[str]) -> list[str]:
    """The catalogue first (the target makes the collections' tables from it), then by name."""
    return sorted(tables, key=lambda table: (table != CATALOGUE_TABLE, table))


async def dump_tenant(connection: AsyncConnection, tenant: Tenant) -> AsyncIterator[bytes]:
    yield opening()
    tables = [t for t in await tenant_tables(connection, tenant) if t not in transfer.NOT_COPIED]
    if partitions.PARENT in tables:
        weeks = await transfer.position_weeks(connection, tenant)
        yield frame("weeks", weeks=[week.isoformat() for week in weeks])
    rows = 0
    for table in dump_order(tables):
        columns = await transfer.columns(connection, tenant, table, generated=False)
        yield frame("table", table=table, columns=columns)
        copied = 0
        async for chunk, counted in _copy_out(connection, tenant, table, columns):
            if chunk:
                yield frame("data", size=len(chunk)) + chunk
            copied = counted
        rows += copied
        yield frame("table_end", rows=copied)
    sequences = await connection.execute(
        text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = :schema AND last_value IS NOT NULL ORDER BY sequencename"
        ),
        {"schema": tenant.name},
    )
    yield frame("sequences", values={name: int(value) for name, value in sequences})
    keys = await connection.execute(
        text(
            "SELECT prefix, secret_digest, revoked_at, created_at, scope "
            f"FROM {CATALOGUE_SCHEMA}.api_keys WHERE tenant_id = :id ORDER BY prefix"
        ),
        {"id": tenant.id},
    )
    yield frame(
        "keys",
        keys=[
            {
                "prefix": key.prefix,
                "secret_digest": key.secret_digest,
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
                "created_at": key.created_at.isoformat(),
                "scope": key.scope,
            }
            for key in keys
        ],
    )
    yield frame("end", tables=len(tables), rows=rows)


async def _copy_out(
    connection: AsyncConnection, tenant: Tenant, table: str, columns: list[str]
) -> AsyncIterator[tuple[bytes, int]]:
    """The table's binary COPY stream in chunks; the row count comes with the last (empty)."""
    listed = ", ".join(quote_ident(column) for column in columns)
    query = f"SELECT {listed} FROM {qualified(tenant, table)}"
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=_PIPE_DEPTH)
    reader = await transfer.driver(connection)

    async def produce() -> str:
        try:
            return str(await reader.copy_from_query(query, output=chunks.put, format="binary"))
        finally:
            await chunks.put(None)

    producing = asyncio.create_task(produce())
    try:
        while (chunk := await chunks.get()) is not None:
            yield chunk, 0
        status = await producing
    finally:
        if not producing.done():
            producing.cancel()
            await asyncio.gather(producing, return_exceptions=True)
    yield b"", int(status.split()[-1])
