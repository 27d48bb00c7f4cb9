"""Durable Yjs documents: an append-only log of updates folded now and then into a snapshot.

Each method is one tenant transaction. Appends and loads share a per-document advisory lock
that compaction takes exclusively, so a compaction reads every row it deletes and an update
appended meanwhile waits for it and lands after the snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pycrdt import Doc, merge_updates
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.tenancy.scope import Tenant, tenant_transaction
from webhost.data.yjs import repository


class UnfoldableDocument(Exception):
    """The stored updates do not merge into a readable snapshot; they are kept as they are."""


@dataclass(frozen=True)
class StoredDocument:
    chunks: list[bytes]  # the snapshot (if any) then every later update, in order
    unfolded: int  # updates not yet folded into the snapshot


class DocumentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, tenant: Tenant, document: str) -> StoredDocument:
        async with tenant_transaction(self._engine, tenant) as connection:
            await repository.lock_document(connection, tenant, document, exclusive=False)
            snapshot = await repository.read_snapshot(connection, tenant, document)
            updates = await repository.read_updates(
                connection, tenant, document, after=snapshot.seq
            )
        chunks = [] if snapshot.update is None else [snapshot.update]
        chunks.extend(stored.update for stored in updates)
        return StoredDocument(chunks=chunks, unfolded=len(updates))

    async def append(self, tenant: Tenant, document: str, updates: Sequence[bytes]) -> None:
        async with tenant_transaction(self._engine, tenant) as connection:
            await repository.lock_document(connection, tenant, document, exclusive=False)
            await repository.insert_updates(connection, tenant, document, updates)

    async def compact(self, tenant: Tenant, document: str) -> int:
        """Fold every stored update into the snapshot; returns how many were folded."""
        async with tenant_transaction(self._engine, tenant) as connection:
            await repository.lock_document(connection, tenant, document, exclusive=True)
            snapshot = await repository.read_snapshot(connection, tenant, document)
            updates = await repository.read_updates(
                connection, tenant, document, after=snapshot.seq
            )
            if not updates:
                return 0
            chunks = [] if snapshot.update is None else [snapshot.update]
            chunks.extend(stored.update for stored in updates)
            folded = fold(chunks)
            last_seq = updates[-1].seq
            await repository.write_snapshot(connection, tenant, document, folded, last_seq)
            await repository.delete_updates_through(connection, tenant, document, last_seq)
        return len(updates)


def fold(chunks: Sequence[bytes]) -> bytes:
    """Merge updates without a document, which keeps those still waiting for dependencies."""
    try:
        merged = merge_updates(*chunks)
        # the snapshot replaces its rows, so it must load before they may go
        Doc().apply_update(merged)
    except Exception as exc:
        raise UnfoldableDocument(str(exc)[:200]) from exc
    return merged
