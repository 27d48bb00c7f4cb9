"""Durable Yjs documents: an append-only log of updates, folded now and then into a snapshot.

Appends of many rooms, of any tenants, share one statement (group commit), each tenant's rows
written by the tenant's own function, as that tenant. A document is served by one room of one
process, so its compaction knows exactly which rows its snapshot covers and needs no lock
against appends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webhost.data.tenancy.scope import Tenant, tenant_transaction
from webhost.data.yjs import repository
from webhost.data.yjs.repository import StoredRows, TenantWrites
from webhost.db import admin
from webhost.db.urls import PostgresURL


@dataclass(frozen=True)
class DocumentWrite:
    tenant: Tenant
    document: str
    updates: Sequence[bytes]


class DocumentStore:
    def __init__(self, engine: AsyncEngine, database_url: PostgresURL) -> None:
        self._engine = engine
        self._database_url = database_url
        # appends have a connection of their own: no pool checkout (and ping) per commit
        self._appender: asyncpg.Connection | None = None

    async def close(self) -> None:
        if self._appender is not None:
            await self._appender.close()
            self._appender = None

    async def load(self, tenant: Tenant, document: str) -> StoredRows:
        async with tenant_transaction(self._engine, tenant) as connection:
            return await repository.read_document(connection, tenant, document)

    async def append(self, writes: Sequence[DocumentWrite]) -> list[int]:
        """Store every write in one statement, hence one transaction and one commit; returns
        the last sequence number of each."""
        by_tenant: dict[Tenant, list[DocumentWrite]] = {}
        for write in writes:
            by_tenant.setdefault(write.tenant, []).append(write)
        tenant_writes = [
            TenantWrites(
                tenant,
                [write.document for write in grouped for _ in write.updates],
                [update for write in grouped for update in write.updates],
            )
            for tenant, grouped in by_tenant.items()
        ]
        if self._appender is None or self._appender.is_closed():
            self._appender = await admin.connect(self._database_url)
        try:
            last_seqs = await repository.append_updates(self._appender, tenant_writes)
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            # the connection's state is unknown: the next append starts on a new one
            self._appender.terminate()
            self._appender = None
            raise
        return [last_seqs[(write.tenant, write.document)] for write in writes]

    async def compact(
        self,
        tenant: Tenant,
        document: str,
        snapshot: bytes,
        through_seq: int,
        carried: Sequence[bytes],
    ) -> int:
        """Replace the log up to ``through_seq`` with the snapshot. ``carried`` updates (those
        the snapshot cannot hold yet) are appended again; returns their last sequence number,
        or ``through_seq`` when there are none."""
        async with tenant_transaction(self._engine, tenant) as connection:
            await repository.write_snapshot(connection, tenant, document, snapshot, through_seq)
            await repository.delete_updates_through(connection, tenant, document, through_seq)
            if not carried:
                return through_seq
            stored = await repository.append_updates(
                await _driver_connection(connection),
                [TenantWrites(tenant, [document] * len(carried), carried)],
            )
        return stored[(tenant, document)]


async def _driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under SQLAlchemy's, in the same transaction."""
    pooled = await connection.get_raw_connection()
    driver = pooled.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return driver


def describe_error(exc: Exception) -> str:
    """A storage error without the statement's parameters, which hold tenants' documents."""
    return f"{type(exc).__name__}: {getattr(exc, 'orig', exc)}"[:300]
