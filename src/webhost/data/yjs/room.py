"""One live document of one tenant: its clients, its in-memory copy and its storage.

The path of an update: socket -> ``handle`` (decodes) -> inbox -> writer task (validates on
the shadow copy, stores the batch, then applies and fans out). Every task of a room catches
its own errors: a failure is logged and costs at most the sockets involved.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs import protocol
from webhost.data.yjs.awareness import AwarenessTable
from webhost.data.yjs.connection import CLOSE_BAD_MESSAGE, CLOSE_SERVER_ERROR, Connection
from webhost.data.yjs.replica import DocumentReplica, update_is_readable
from webhost.data.yjs.store import DocumentStore

log = structlog.get_logger(__name__)

# updates received but not yet stored; a full inbox slows the senders' sockets down
INBOX_SIZE = 1024
# updates stored per transaction when clients write faster than one transaction at a time
MAX_BATCH = 256

_Entry = tuple[Connection, bytes]


class Room:
    def __init__(
        self, tenant: Tenant, document: str, store: DocumentStore, *, compact_after: int
    ) -> None:
        self.tenant = tenant
        self.document = document
        self.connections: set[Connection] = set()
        self.awareness = AwarenessTable()
        self._store = store
        self._compact_after = max(1, compact_after)
        self._replica = DocumentReplica()
        self._inbox: asyncio.Queue[_Entry | None] = asyncio.Queue(INBOX_SIZE)
        self._unfolded = 0
        self._next_compaction = self._compact_after
        self._compaction: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._loading = asyncio.create_task(self._load(), name="yjs-room-load")

    async def ready(self) -> None:
        """Wait until the document is loaded; raises if it could not be."""
        await asyncio.shield(self._loading)

    async def _load(self) -> None:
        stored = await self._store.load(self.tenant, self.document)
        for chunk in stored.chunks:
            if self._replica.stage(chunk):
                self._replica.commit(chunk)
            else:
                log.error("yjs.stored_update_unreadable", document=self.document)
        self._unfolded = stored.unfolded
        self._writer = asyncio.create_task(self._write_updates(), name="yjs-room-writer")
        self._compact_if_due()

    def greet(self, connection: Connection) -> None:
        """What the reference server sends a newcomer: its state vector and who is here."""
        connection.send(protocol.encode_sync_step1(self._replica.state_vector()))
        present = self.awareness.present()
        if present:
            connection.send(protocol.encode_awareness(present))

    async def handle(self, connection: Connection, message: protocol.Message) -> None:
        """Act on one client message; raises ProtocolError when the client broke the protocol."""
        if isinstance(message, protocol.SyncStep1):
            reply = self._replica.missing_from(message.state_vector)
            connection.send(protocol.encode_sync_step2(reply))
        elif isinstance(message, protocol.SyncUpdate):
            if not update_is_readable(message.update):
                raise protocol.ProtocolError("malformed update")
            if not message.is_empty:
                await self._inbox.put((connection, message.update))
        elif isinstance(message, protocol.AwarenessUpdate):
            changed = self.awareness.apply(message.states)
            for state in changed:
                if state.is_removal:
                    connection.awareness_ids.discard(state.client_id)
                else:
                    connection.awareness_ids.add(state.client_id)
            if changed:
                # echoed to the sender too, like the reference server: a lone client
                # otherwise hears nothing and its watchdog reconnects every 30 seconds
                self._broadcast(protocol.encode_awareness(changed))
        elif isinstance(message, protocol.QueryAwareness):
            connection.send(protocol.encode_awareness(self.awareness.present()))

    def leave(self, connection: Connection) -> None:
        self.connections.discard(connection)
        removed = self.awareness.remove(connection.awareness_ids)
        if removed:
            self._broadcast(protocol.encode_awareness(removed))

    def _broadcast(self, message: bytes, *, skip: Connection | None = None) -> None:
        for connection in list(self.connections):
            if connection is not skip:
                connection.send(message)

    async def _write_updates(self) -> None:
        while True:
            batch: list[_Entry] = []
            entry = await self._inbox.get()
            while entry is not None:
                batch.append(entry)
                if len(batch) >= MAX_BATCH or self._inbox.empty():
                    break
                entry = self._inbox.get_nowait()
            if batch:
                try:
                    await self._persist(batch)
                except Exception:
                    log.exception("yjs.persist_failed", document=self.document)
            if entry is None:
                return

    async def _persist(self, batch: list[_Entry]) -> None:
        accepted: list[_Entry] = []
        for connection, update in batch:
            if connection.rejected:
                continue
            if self._replica.stage(update):
                accepted.append((connection, update))
            else:
                # what this socket sent after the bad update is dropped with it
                connection.rejected = True
                connection.close(CLOSE_BAD_MESSAGE, "malformed update")
        if not accepted:
            return
        try:
            await self._store.append(self.tenant, self.document, [u for _, u in accepted])
        except Exception as exc:
            log.error("yjs.store_failed", document=self.document, error=_describe(exc))
            self._replica.discard_staged()
            # their clients still hold these updates and send them again on reconnect
            for connection, _ in accepted:
                connection.close(CLOSE_SERVER_ERROR, "could not store update")
            return
        for connection, update in accepted:
            self._replica.commit(update)
            self._broadcast(protocol.encode_update(update), skip=connection)
        self._unfolded += len(accepted)
        self._compact_if_due()

    def _compact_if_due(self) -> None:
        running = self._compaction is not None and not self._compaction.done()
        if self._unfolded >= self._next_compaction and not running:
            self._compaction = asyncio.create_task(self._compact(), name="yjs-room-compaction")

    async def _compact(self) -> None:
        try:
            folded = await self._store.compact(self.tenant, self.document)
        except Exception as exc:
            log.error("yjs.compaction_failed", document=self.document, error=_describe(exc))
            # try again only after as many updates again, not on every update
            self._next_compaction = self._unfolded + self._compact_after
            return
        self._unfolded = max(0, self._unfolded - folded)
        self._next_compaction = self._compact_after

    async def shut_down(self) -> None:
        """Store what is still queued, fold the log into the snapshot, stop every task."""
        with contextlib.suppress(Exception):
            await self._loading
        if self._writer is not None:
            await self._inbox.put(None)
            await self._writer
        if self._compaction is not None:
            await self._compaction
        if self._writer is not None and self._unfolded > 0:
            await self._compact()


def _describe(exc: Exception) -> str:
    """The error without the statement's parameters, which hold the tenant's document."""
    return f"{type(exc).__name__}: {getattr(exc, 'orig', exc)}"[:300]
