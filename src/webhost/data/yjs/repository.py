"""All SQL of Yjs document storage, run inside a tenant transaction opened by the caller.

Table names are qualified with the tenant schema so that asyncpg's per-connection cache of
prepared statements never serves one tenant's statement to another; document names are
always bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident


@dataclass(frozen=True)
class Snapshot:
    update: bytes | None
    seq: int


@dataclass(frozen=True)
class StoredUpdate:
    seq: int
    update: bytes


def _documents(tenant: Tenant) -> str:
    return f"{quote_ident(tenant.name)}._yjs_documents"


def _updates(tenant: Tenant) -> str:
    return f"{quote_ident(tenant.name)}._yjs_updates"


async def lock_document(
    connection: AsyncConnection, tenant: Tenant, document: str, *, exclusive: bool
) -> None:
    """Writers share the lock; a compaction holds it alone, so no row slips past its read."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await connection.execute(
        text(f"SELECT {function}(hashtextextended(:key, 0))"),
        {"key": f"webhost:yjs:{tenant.name}:{document}"},
    )


async def read_snapshot(connection: AsyncConnection, tenant: Tenant, document: str) -> Snapshot:
    row = (
        await connection.execute(
            text(f"SELECT snapshot, snapshot_seq FROM {_documents(tenant)} WHERE name = :name"),
            {"name": document},
        )
    ).one_or_none()
    if row is None:
        return Snapshot(update=None, seq=0)
    return Snapshot(update=row[0], seq=row[1])


async def read_updates(
    connection: AsyncConnection, tenant: Tenant, document: str, *, after: int
) -> list[StoredUpdate]:
    rows = await connection.execute(
        text(
            f'SELECT seq, "update" FROM {_updates(tenant)} '
            "WHERE document = :document AND seq > :after ORDER BY seq"
        ),
        {"document": document, "after": after},
    )
    return [StoredUpdate(seq=seq, update=update) for seq, update in rows]


async def insert_updates(
    connection: AsyncConnection, tenant: Tenant, document: str, updates: Sequence[bytes]
) -> None:
    await connection.execute(
        text(
            f'INSERT INTO {_updates(tenant)} (document, "update") '
            "SELECT :document, batch.update "
            'FROM unnest(CAST(:updates AS bytea[])) WITH ORDINALITY AS batch("update", position) '
            "ORDER BY batch.position"
        ),
        {"document": document, "updates": list(updates)},
    )


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
