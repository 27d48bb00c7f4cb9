"""Group commit: the updates every room of a data plane accepted, stored together.

One task writes; while its transaction commits, rooms keep accepting, and the next transaction
takes everything that piled up meanwhile, across rooms and tenants. A busy plane thus pays one
commit (and one fsync) for many updates, and an idle one still stores each update at once.
"""

from __future__ import annotations

import asyncio

import structlog

from webhost.data.yjs.room import Accepted, Room
from webhost.data.yjs.store import DocumentStore, DocumentWrite, describe_error

log = structlog.get_logger(__name__)

# one transaction's share; a larger backlog is stored by the next ones
MAX_BATCH_UPDATES = 5_000
MAX_BATCH_BYTES = 32 * 1024 * 1024

Batch = list[tuple[Room, list[Accepted]]]


class GroupCommitter:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._waiting: dict[Room, None] = {}  # rooms with unsaved updates, oldest first
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, room: Room) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="yjs-group-commit")
        self._waiting[room] = None
        self._wakeup.set()

    async def close(self) -> None:
        """Store what is still waiting, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            while self._waiting:
                await self._commit(self._take())
            if self._closing:
                return
            await self._wakeup.wait()

    def _take(self) -> Batch:
        batch: Batch = []
        updates = size = 0
        for room in list(self._waiting):
            if updates >= MAX_BATCH_UPDATES or size >= MAX_BATCH_BYTES:
                break
            entries = room.take_unsaved(MAX_BATCH_UPDATES - updates, MAX_BATCH_BYTES - size)
            if not room.has_unsaved:
                del self._waiting[room]
            if entries:
                batch.append((room, entries))
                updates += len(entries)
                size += sum(len(update) for _, update in entries)
        return batch

    async def _commit(self, batch: Batch) -> None:
        if not batch:
            return
        try:
            last_seqs = await self._store.append(_writes(batch))
        except Exception as exc:
            tenants = {room.tenant for room, _ in batch}
            if len(tenants) == 1:
                log.error("yjs.store_failed", error=describe_error(exc), rooms=len(batch))
                for room, entries in batch:
                    room.store_failed(entries)
                return
            # one tenant's failure must stay its own: store each tenant on its own
            for tenant in tenants:
                await self._commit([entry for entry in batch if entry[0].tenant == tenant])
            return
        for (room, entries), last_seq in zip(batch, last_seqs, strict=True):
            room.stored(entries, last_seq)


def _writes(batch: Batch) -> list[DocumentWrite]:
    return [
        DocumentWrite(room.tenant, room.document, [update for _, update in entries])
        for room, entries in batch
    ]
