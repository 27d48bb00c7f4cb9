"""One live document of one tenant: its clients, its in-memory document and its storage.

The path of an update: socket -> ``handle`` (applied to the document once, which is also the
check) -> the plane's group committer (stored with other rooms' updates in one transaction) ->
``stored`` (its frame encoded once and written to every other socket). Accepted means stored:
nothing a client sent reaches another client, or a newcomer's sync reply, before it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from webhost.config import Settings
from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs import protocol
from webhost.data.yjs.awareness import AwarenessTable
from webhost.data.yjs.connection import Connection
from webhost.data.yjs.document import DocumentDamaged, LiveDocument, UpdateRejected
from webhost.data.yjs.store import DocumentStore, describe_error
from webhost.http.websocket import CLOSE_SERVER_ERROR, CLOSE_TOO_LARGE, binary_frame

log = structlog.get_logger(__name__)

# client ids one socket may announce presence for (a tab has one; a few for sub-documents)
MAX_AWARENESS_CLIENTS_PER_CONNECTION = 16
# a compaction rewrites the whole document, so it waits for this fraction of its size in new
# updates: the cost of compaction per stored byte stays constant however large the document
COMPACT_WHEN_LOG_REACHES = 1 / 8
# accepted updates a room holds while storage catches up; past this, its senders wait
MAX_UNSAVED_BYTES = 16 * 1024 * 1024
MAX_UNSAVED_UPDATES = 20_000


class Committer(Protocol):
    def enqueue(self, room: Room) -> None: ...


@dataclass(frozen=True)
class RoomOptions:
    compact_after: int = 200
    document_max_bytes: int = 16 * 1024 * 1024  # for tenants whose plan sets none
    max_backlog_bytes: int = 32 * 1024 * 1024
    send_timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RoomOptions:
        return cls(
            compact_after=settings.yjs_compact_after,
            document_max_bytes=settings.yjs_document_max_bytes,
            max_backlog_bytes=settings.yjs_max_backlog_bytes,
            send_timeout_seconds=settings.yjs_send_timeout_seconds,
        )


Accepted = tuple[Connection, bytes]


@dataclass(frozen=True)
class _HeldReply:
    ticket: int  # updates accepted when it was made; sent once as many are stored
    connection: Connection
    state_vector: bytes
    frame: bytes


class RoomUnavailable(Exception):
    """The room stopped (its storage failed); its clients are told to come back."""


class Room:
    def __init__(
        self,
        tenant: Tenant,
        document: str,
        store: DocumentStore,
        committer: Committer,
        options: RoomOptions,
    ) -> None:
        self.tenant = tenant
        self.document = document
        self.connections: set[Connection] = set()
        self.awareness = AwarenessTable()
        self.broken = False
        # told when the room stops serving (its storage failed), to let it go at once
        self.on_broken: Callable[[Room], None] | None = None
        self._store = store
        self._committer = committer
        self._options = options
        self._document = LiveDocument()
        # accepted: applied to the document; durable: of those, how many are stored
        self._accepted = 0
        self._durable = 0
        self._unsaved: deque[Accepted] = deque()
        self._unsaved_bytes = 0
        self._flushed = asyncio.Event()
        self._flushed.set()
        self._drained = asyncio.Event()
        self._drained.set()
        # sync replies held until everything accepted before them is stored; the request's
        # state vector is kept to answer again should those updates fail to be stored
        self._held: deque[_HeldReply] = deque()
        # storage bookkeeping: stored updates the snapshot does not cover yet, and sizes
        self._since_snapshot: list[bytes] = []
        self._unfolded_bytes = 0
        self._snapshot_bytes = 0
        self._last_seq = 0
        self._size_estimate = 0
        self._measured_at = -1  # updates accepted when the size was last measured exactly
        self._next_measurement = 0.0
        self._compaction: asyncio.Task[None] | None = None
        self._next_compaction = options.compact_after
        self._ready = asyncio.Event()
        self._loading: asyncio.Task[None] = asyncio.create_task(self._load(), name="yjs-room-load")

    async def ready(self) -> None:
        """Wait until the document is loaded; raises if it could not be."""
        await asyncio.shield(self._loading)

    async def _load(self) -> None:
        stored = await self._store.load(self.tenant, self.document)
        chunks = [] if stored.snapshot is None else [stored.snapshot]
        for chunk in [*chunks, *stored.updates]:
            try:
                self._document.apply(chunk)
            except (UpdateRejected, DocumentDamaged) as exc:
                log.error("yjs.stored_update_unreadable", document=self.document, error=str(exc))
        self._snapshot_bytes = 0 if stored.snapshot is None else len(stored.snapshot)
        self._since_snapshot = list(stored.updates)
        self._unfolded_bytes = sum(len(update) for update in stored.updates)
        self._last_seq = stored.last_seq
        self._size_estimate = self._snapshot_bytes + self._unfolded_bytes
        self._ready.set()
        self._compact_if_due()

    # -- messages from clients ---------------------------------------------------------------

    @property
    def awareness_limit(self) -> int:
        """States one awareness message may carry: clients relay everyone they know."""
        return len(self.connections) * 4 + MAX_AWARENESS_CLIENTS_PER_CONNECTION

    def greet(self, connection: Connection) -> None:
        """What the reference server sends a newcomer: its state vector and who is here."""
        connection.send(binary_frame(protocol.encode_sync_step1(self._document.state_vector())))
        present = self.awareness.present()
        if present:
            connection.send(binary_frame(protocol.encode_awareness(present)))

    def handle_now(self, connection: Connection, message: protocol.Message) -> bool:
        """Act on a client message at once, if that needs no waiting; False leaves it to
        ``handle``. Raises ProtocolError when the client broke the protocol."""
        if self.broken or not self._ready.is_set():
            return False
        if isinstance(message, protocol.SyncUpdate):
            if message.is_empty:
                return True
            if self._backlogged or not self._fits_estimate(message.update):
                return False
            self._accept(connection, message.update)
        elif isinstance(message, protocol.SyncStep1):
            self._send_sync_reply(connection, message.state_vector)
        elif isinstance(message, protocol.AwarenessUpdate):
            self._update_awareness(connection, message.states)
        elif isinstance(message, protocol.QueryAwareness):
            connection.send(binary_frame(protocol.encode_awareness(self.awareness.present())))
        return True

    async def handle(self, connection: Connection, message: protocol.Message) -> None:
        """Act on one client message, waiting as long as that takes: for the document (being
        loaded or rebuilt), for storage to catch up, for a measurement of the document."""
        while True:
            if not self._ready.is_set():
                await self._ready.wait()
            if self.broken:
                raise RoomUnavailable
            if isinstance(message, protocol.SyncUpdate) and not message.is_empty:
                while self._backlogged:
                    # the socket is not read until storage catches up
                    await self._drained.wait()
                if not await self._fits(message.update):
                    connection.close(
                        CLOSE_TOO_LARGE,
                        f"document would exceed this plan's limit of "
                        f"{self._options.document_max_bytes // 2**20} MiB",
                    )
                    return
            if self.handle_now(connection, message):
                return
            # the document was taken away meanwhile (a rebuild): wait for it again

    @property
    def _backlogged(self) -> bool:
        return self._unsaved_bytes > MAX_UNSAVED_BYTES or len(self._unsaved) > MAX_UNSAVED_UPDATES

    def _accept(self, connection: Connection, update: bytes) -> None:
        try:
            self._document.apply(update)
        except UpdateRejected:
            raise protocol.ProtocolError("malformed update") from None
        except DocumentDamaged as exc:
            log.warning("yjs.update_damaged_document", document=self.document, error=str(exc))
            self._rebuild()
            raise protocol.ProtocolError("malformed update") from None
        self._accepted += 1
        self._size_estimate += len(update)
        self._unsaved.append((connection, update))
        self._unsaved_bytes += len(update)
        self._flushed.clear()
        self._committer.enqueue(self)
        if self._backlogged:
            self._drained.clear()

    def _fits_estimate(self, update: bytes) -> bool:
        """Within the limit by the running estimate (bytes stored, an upper bound)."""
        return self._size_estimate + len(update) <= self._options.document_max_bytes

    async def _fits(self, update: bytes) -> bool:
        """Whether the document stays within its limit with this update. The running estimate
        only grows; before anything is refused, the real size is measured, as edits that
        replace content do not grow the document. Measuring costs time in proportion to the
        size, so a writer near the limit waits rather than the room."""
        if self._fits_estimate(update):
            return True
        if self._measured_at == self._accepted:
            return False  # measured, and nothing changed since
        delay = self._next_measurement - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        started = time.monotonic()
        self._size_estimate = len(self._document.snapshot())
        self._measured_at = self._accepted
        # at most one part in twenty of the room's time goes to measuring
        self._next_measurement = time.monotonic() + 20 * (time.monotonic() - started)
        return self._fits_estimate(update)

    def _send_sync_reply(self, connection: Connection, state_vector: bytes) -> None:
        """Sync step 2, sent once everything it shows is stored."""
        reply = self._document.missing_from(state_vector)
        frame = binary_frame(protocol.encode_sync_step2(reply))
        if self._durable == self._accepted:
            connection.send(frame, reply=True)
        else:
            self._held.append(_HeldReply(self._accepted, connection, state_vector, frame))

    def _update_awareness(
        self, connection: Connection, states: tuple[protocol.AwarenessState, ...]
    ) -> None:
        newer = self.awareness.newer(states)
        announced = {state.client_id for state in newer if not state.is_removal}
        if len(connection.awareness_ids | announced) > MAX_AWARENESS_CLIENTS_PER_CONNECTION:
            raise protocol.ProtocolError(
                f"presence for more than {MAX_AWARENESS_CLIENTS_PER_CONNECTION} clients"
            )
        changed = self.awareness.record(newer)
        for state in changed:
            if state.is_removal:
                connection.awareness_ids.discard(state.client_id)
            else:
                connection.awareness_ids.add(state.client_id)
        if changed:
            # echoed to the sender too, like the reference server: a lone client
            # otherwise hears nothing and its watchdog reconnects every 30 seconds
            self._broadcast(binary_frame(protocol.encode_awareness(changed)))

    def leave(self, connection: Connection) -> None:
        self.connections.discard(connection)
        removed = self.awareness.remove(connection.awareness_ids)
        if removed:
            self._broadcast(binary_frame(protocol.encode_awareness(removed)))

    def _broadcast(self, frame: bytes, *, skip: Connection | None = None) -> None:
        for connection in self.connections:
            if connection is not skip:
                connection.send(frame)

    # -- the group committer's side ----------------------------------------------------------

    def take_unsaved(self, max_updates: int, max_bytes: int) -> list[Accepted]:
        """Hand the oldest accepted updates to the committer (at least one when there are any)."""
        taken: list[Accepted] = []
        size = 0
        while self._unsaved and len(taken) < max_updates:
            if taken and size + len(self._unsaved[0][1]) > max_bytes:
                break
            entry = self._unsaved.popleft()
            size += len(entry[1])
            taken.append(entry)
        self._unsaved_bytes -= size
        if (
            self._unsaved_bytes <= MAX_UNSAVED_BYTES // 2
            and len(self._unsaved) <= MAX_UNSAVED_UPDATES // 2
        ):
            self._drained.set()
        return taken

    @property
    def has_unsaved(self) -> bool:
        return bool(self._unsaved)

    def stored(self, entries: list[Accepted], last_seq: int) -> None:
        """The committer stored these updates: now they may travel."""
        self._durable += len(entries)
        self._last_seq = max(self._last_seq, last_seq)
        for sender, update in entries:
            self._broadcast(binary_frame(protocol.encode_update(update)), skip=sender)
            self._since_snapshot.append(update)
            self._unfolded_bytes += len(update)
        while self._held and self._held[0].ticket <= self._durable:
            held = self._held.popleft()
            held.connection.send(held.frame, reply=True)
        if self._durable == self._accepted:
            self._flushed.set()
        self._compact_if_due()

    def store_failed(self, entries: list[Accepted]) -> None:
        """These updates could not be stored, and those accepted after them will not be: the
        document is rebuilt from storage without them and their senders are disconnected.
        Every such client still holds what it sent and sends it again when it reconnects."""
        dropped = [*entries, *self._unsaved]
        self._unsaved.clear()
        self._unsaved_bytes = 0
        self._drained.set()
        self._accepted = self._durable
        self._flushed.set()
        for connection in {connection for connection, _ in dropped}:
            connection.close(CLOSE_SERVER_ERROR, "could not store update")
        self._rebuild()

    def _stop(self) -> None:
        """The document cannot be served (storage is out of reach): everyone comes back later."""
        log.error("yjs.room_stopped", document=self.document)
        self.broken = True
        self._held.clear()
        for connection in list(self.connections):
            connection.close(CLOSE_SERVER_ERROR, "document unavailable")
        if self.on_broken is not None:
            self.on_broken(self)

    # -- keeping the document sound ------------------------------------------------------------

    def _rebuild(self) -> None:
        """A crafted update damaged the document: once what was accepted before it is stored,
        reload the document from storage. Messages wait meanwhile."""
        if not self._ready.is_set():
            return  # already rebuilding
        self._ready.clear()

        async def reload() -> None:
            await self._flushed.wait()
            if self._compaction is not None:
                with contextlib.suppress(Exception):
                    await self._compaction
            self._document = LiveDocument()
            try:
                await self._load()
            except Exception as exc:
                log.error(
                    "yjs.room_reload_failed", document=self.document, error=describe_error(exc)
                )
                self._stop()
                self._ready.set()
                return
            # replies held for updates that were dropped are made again from what is stored
            held, self._held = self._held, deque()
            for reply in held:
                self._send_sync_reply(reply.connection, reply.state_vector)

        self._loading = asyncio.create_task(reload(), name="yjs-room-reload")

    def _compact_if_due(self) -> None:
        running = self._compaction is not None and not self._compaction.done()
        if (
            not running
            and not self.broken
            and self._ready.is_set()
            and len(self._since_snapshot) >= self._next_compaction
            and self._unfolded_bytes >= self._snapshot_bytes * COMPACT_WHEN_LOG_REACHES
        ):
            self._compaction = asyncio.create_task(self._compact(), name="yjs-room-compaction")

    async def _compact(self) -> None:
        """Write the live document as the new snapshot and drop the log rows it covers."""
        if self.broken or not self._ready.is_set():
            return  # a damaged or unstored document must never become the snapshot
        folded = list(self._since_snapshot)
        through_seq = self._last_seq
        # updates still waiting for what they depend on are not in the snapshot: kept as rows
        carried = self._document.settle(folded)
        snapshot = self._document.snapshot()
        try:
            carried_seq = await self._store.compact(
                self.tenant, self.document, snapshot, through_seq, carried
            )
        except Exception as exc:
            log.error("yjs.compaction_failed", document=self.document, error=describe_error(exc))
            # try again only after as many updates again, not on every update
            self._next_compaction = len(self._since_snapshot) + self._options.compact_after
            return
        self._since_snapshot = carried + self._since_snapshot[len(folded) :]
        self._unfolded_bytes = sum(len(update) for update in self._since_snapshot)
        self._snapshot_bytes = len(snapshot)
        self._size_estimate = self._snapshot_bytes + self._unfolded_bytes
        self._last_seq = max(self._last_seq, carried_seq)
        self._next_compaction = len(carried) + self._options.compact_after

    async def shut_down(self) -> None:
        """Wait until every accepted update is stored, fold the log into the snapshot."""
        with contextlib.suppress(Exception):
            await self._loading
        await self._flushed.wait()
        if self._compaction is not None:
            with contextlib.suppress(Exception):
                await self._compaction
        if self._since_snapshot:
            await self._compact()
