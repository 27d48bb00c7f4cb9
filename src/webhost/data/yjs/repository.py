"""All SQL of Yjs document storage, run inside a tenant transaction opened by the caller.

Table names are qualified with the tenant schema so that asyncpg's per-connection cache of
prepared statements never serves one tenant's statement to another; document names are
always bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident


@dataclass(frozen=True)
class TenantWrites:
    tenant: Tenant
    documents: Sequence[str]  # document of each update
    updates: Sequence[bytes]


@dataclass(frozen=True)
class StoredRows:
    snapshot: bytes | None
    snapshot_seq: int
    updates: list[bytes]  # every update after the snapshot, in order
    last_seq: int  # the highest sequence number among them (or the snapshot's)


def _documents(tenant: Tenant) -> str:
    return f"{quote_ident(tenant.name)}._yjs_documents"


def _updates(tenant: Tenant) -> str:
    return f"{quote_ident(tenant.name)}._yjs_updates"


async def read_document(connection: AsyncConnection, tenant: Tenant, document: str) -> StoredRows:
    """Snapshot and later updates in one statement, hence from one consistent view: a
    compaction committed meanwhile is seen either wholly or not at all."""
    rows = await connection.execute(
        text(
            f"WITH snapshot AS (SELECT snapshot, snapshot_seq FROM {_documents(tenant)} "
            "WHERE name = :name) "
            "SELECT snapshot_seq, snapshot, true FROM snapshot "
            f'UNION ALL SELECT u.seq, u."update", false FROM {_updates(tenant)} u '
            "WHERE u.document = :name "
            "AND u.seq > coalesce((SELECT snapshot_seq FROM snapshot), 0) "
            "ORDER BY 3 DESC, 1"
        ),
        {"name": document},
    )
    snapshot: bytes | None = None
    snapshot_seq = last_seq = 0
    updates: list[bytes] = []
    for seq, data, is_snapshot in rows:
        if is_snapshot:
            snapshot, snapshot_seq = data, seq
        else:
            updates.append(data)
        last_seq = max(last_seq, seq)
    return StoredRows(snapshot, snapshot_seq, updates, last_seq)


async def append_updates(
    connection: asyncpg.Connection, writes: Sequence[TenantWrites]
) -> dict[tuple[Tenant, str], int]:
    """Append every tenant's updates in one statement, each through the tenant's own
    ``append_yjs_updates`` (it runs as the tenant: see tenant migration 0002). Update i of a
    tenant goes to document i, in order. Returns the last sequence number of each document.
    On the driver's connection: this is the group commit's statement."""
    parts = []
    arguments: list[object] = []
    for index, write in enumerate(writes):
        parts.append(
            f"SELECT {index} AS part, document, last_seq "
            f"FROM {quote_ident(write.tenant.name)}.append_yjs_updates("
            f"${len(arguments) + 1}::text[], ${len(arguments) + 2}::bytea[])"
        )
        arguments += [write.documents, write.updates]
    rows = await connection.fetch(" UNION ALL ".join(parts), *arguments)
    return {(writes[row["part"]].tenant, row["document"]): row["last_seq"] for row in rows}


async def write_snapshot(
    connection: AsyncConnection, tenant: Tenant, document: str, snapshot: bytes, seq: int
) -> None:
    await connection.execute(
        text(
            f"INSERT INTO {_documents(tenant)} (name, snapshot, snapshot_seq, updated_at) "
            "VALUES (:name, :snapshot, :seq, now()) "
            "ON CONFLICT (name) DO UPDATE SET snapshot = EXCLUDED.snapshot, "
            "snapshot_seq = EXCLUDED.snapshot_seq, updated_at = EXCLUDED.updated_at"
        ),
        {"name": document, "snapshot": snapshot, "seq": seq},
    )


async def delete_updates_through(
    connection: AsyncConnection, tenant: Tenant, document: str, seq: int
) -> None:
    await connection.execute(
        text(f"DELETE FROM {_updates(tenant)} WHERE document = :document AND seq <= :seq"),
        {"document": document, "seq": seq},
    )
