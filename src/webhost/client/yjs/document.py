"""One Yjs document kept in sync with the data plane, as y-websocket clients do it.

On every connection the client sends sync step 1 (its state vector) and answers the server's
with sync step 2 (what the server lacks), so edits made offline reach the server on reconnect.
Local edits are sent as updates as they happen; remote ones are applied. With a replica, every
update is also stored there, so the document survives a restart. Awareness is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any
from urllib.parse import quote

from pycrdt import Doc, TransactionEvent
from websockets.asyncio.client import ClientConnection

from webhost.client.replica.database import ReplicaDatabase
from webhost.client.sockets import FINAL_CLOSE_CODES, stay_connected
from webhost.client.yjs import store
from webhost.data.yjs import protocol

logger = logging.getLogger(__name__)

# stored updates of a document before they are folded into one
COMPACT_AFTER = 200
_SYNC_REPLY = bytes([protocol.MESSAGE_SYNC, protocol.SYNC_STEP2])


class SharedDocument:
    """``doc`` is a plain ``pycrdt.Doc``: edit it on the event loop's thread as usual."""

    def __init__(
        self,
        name: str,
        sync_url: str,
        api_key: str,
        replica: ReplicaDatabase | None = None,
        *,
        compact_after: int = COMPACT_AFTER,
    ) -> None:
        self.name = name
        self.doc: Doc[Any] = Doc()
        self._url = f"{sync_url}/yjs/{quote(name, safe='')}"
        self._api_key = api_key
        self._replica = replica
        self._compact_after = compact_after
        self._socket: ClientConnection | None = None
        self._generation = 0  # one per connection: replies count within one
        self._requested = 0  # sync step 1 messages sent on this connection
        self._replies = 0  # sync step 2 messages received on this connection
        self._changed = asyncio.Condition()
        self._outgoing: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._to_store: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._applying_remote = False
        self._loading = False
        self._connection: asyncio.Task[None] | None = None
        self._storing: asyncio.Task[None] | None = None
        self.closed_by_server: tuple[int, str] | None = None

    @property
    def connected(self) -> bool:
        return self._socket is not None

    async def start(self) -> None:
        if self._replica is not None:
            updates = await self._replica.read(lambda state: store.load(state, self.name))
            self._loading = True
            try:
                for update in updates:
                    self.doc.apply_update(update)
            finally:
                self._loading = False
            self._storing = asyncio.create_task(self._store_updates())
        self.doc.observe(self._on_change)
        self._connection = asyncio.create_task(self._stay_connected())

    async def synced(self) -> None:
        """Wait until connected and the server has answered this client's first sync step."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._socket is not None and self._replies > 0)

    async def flushed(self) -> None:
        """Wait until the server has stored every edit made here so far: it holds its answer
        to a sync step until everything it accepted before that step is stored."""
        while True:
            await self.synced()
            generation = self._generation
            self._requested += 1
            self._outgoing.put_nowait(
                (generation, protocol.encode_sync_step1(self.doc.get_state()))
            )
            if await self._reply_or_reconnect(generation, self._requested):
                return

    async def _reply_or_reconnect(self, generation: int, reply: int) -> bool:
        """True once the ``reply``-th answer of this connection came, False if it was lost."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._generation != generation or self._replies >= reply
            )
            return self._generation == generation

    async def close(self) -> None:
        """Disconnect, and store every update the document has seen."""
        if self._connection is not None:
            self._connection.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connection
        if self._storing is not None:
            self._to_store.put_nowait(None)
            await self._storing

    def _on_change(self, event: TransactionEvent) -> None:
        if self._loading:
            return
        if self._replica is not None:
            self._to_store.put_nowait(event.update)
        if not self._applying_remote and self._socket is not None:
            self._outgoing.put_nowait((self._generation, protocol.encode_update(event.update)))

    async def _stay_connected(self) -> None:
        code, reason = await stay_connected(
            self._url,
            self._api_key,
            self._serve,
            self._disconnected,
            what=f"Yjs document {self.name!r}",
            lost=(protocol.ProtocolError,),
        )
        if code in FINAL_CLOSE_CODES:
            self.closed_by_server = (code, reason)
            logger.warning("Yjs document %r closed by the server: %s", self.name, code)
        else:
            logger.warning("Yjs document %r: the server refused the key", self.name)

    async def _serve(self, socket: ClientConnection) -> None:
        async with self._changed:
            self._generation += 1
            self._requested = 1
            self._replies = 0
            self._socket = socket
        await socket.send(protocol.encode_sync_step1(self.doc.get_state()))
        sender = asyncio.create_task(self._send(socket, self._generation))
        try:
            async for frame in socket:
                if isinstance(frame, bytes):
                    await self._receive(socket, frame)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _send(self, socket: ClientConnection, generation: int) -> None:
        while True:
            frame_generation, frame = await self._outgoing.get()
            if frame_generation == generation:
                await socket.send(frame)

    async def _receive(self, socket: ClientConnection, frame: bytes) -> None:
        message = protocol.parse_message(frame)
        if isinstance(message, protocol.SyncStep1):
            await socket.send(protocol.encode_sync_step2(self.doc.get_update(message.state_vector)))
        elif isinstance(message, protocol.SyncUpdate):
            self._applying_remote = True
            try:
                self.doc.apply_update(message.update)
            finally:
                self._applying_remote = False
            if frame.startswith(_SYNC_REPLY):
                async with self._changed:
                    self._replies += 1
                    self._changed.notify_all()

    async def _disconnected(self) -> None:
        async with self._changed:
            self._socket = None
            self._changed.notify_all()

    async def _store_updates(self) -> None:
        assert self._replica is not None
        replica = self._replica
        while (update := await self._to_store.get()) is not None:
            stored = await replica.write(partial(store.append, document=self.name, update=update))
            if stored > self._compact_after:
                snapshot = self.doc.get_update()
                await replica.write(partial(store.replace, document=self.name, snapshot=snapshot))
