"""Live Yjs rooms of one data plane: one room per (tenant, document), opened on first use and
released, after folding its log into a snapshot, when its last client leaves.

pycrdt-websocket's YRoom is not used: an update must be stored before it is broadcast, one bad
socket must not disturb its room, storage is scoped to the tenant and shared by every room of
the plane (group commit), and a frame is encoded once for all of a room's sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from typing import TYPE_CHECKING

import structlog
from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.tenancy.disconnects import Disconnect
from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs import protocol
from webhost.data.yjs.commits import GroupCommitter
from webhost.data.yjs.connection import Connection
from webhost.data.yjs.room import Room, RoomOptions, RoomUnavailable
from webhost.data.yjs.store import DocumentStore
from webhost.db.urls import PostgresURL
from webhost.http.websocket import (
    CLOSE_BAD_MESSAGE,
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_SERVER_ERROR,
    CLOSE_UNAUTHORIZED,
    DirectSocket,
)

if TYPE_CHECKING:
    from webhost.data.plane import Caller

log = structlog.get_logger(__name__)

RoomKey = tuple[uuid.UUID, str]

SHUTDOWN_GRACE_SECONDS = 30.0
# a key revoked while its holder was between authentication and joining a room is still refused
REMEMBERED_REVOCATIONS = 10_000
# how often sockets are checked for a client that stopped reading
PROGRESS_CHECK_SECONDS = 1.0


class RoomRegistry:
    def __init__(
        self, engine: AsyncEngine, database_url: PostgresURL, options: RoomOptions
    ) -> None:
        self._store = DocumentStore(engine, database_url)
        self._committer = GroupCommitter(self._store)
        self._options = options
        self._rooms: dict[RoomKey, Room] = {}
        self._closing: dict[RoomKey, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._revoked: dict[str, None] = {}
        self._shutting_down = False
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def open_rooms(self) -> int:
        """Rooms in memory, counting those still storing their snapshot before they go."""
        return len(self._rooms) + len(self._closing)

    def max_message_bytes(self, caller: Caller) -> int:
        """The largest message a client may send: past its document limit it is refused with a
        reason (4413); far past it, the connection ends before the message is even buffered."""
        return max(2 * self._document_limit(caller), 1 << 20)

    def _document_limit(self, caller: Caller) -> int:
        return caller.limits.yjs_document_max_bytes or self._options.document_max_bytes

    async def serve(
        self, websocket: WebSocket, socket: DirectSocket, caller: Caller, document: str
    ) -> None:
        try:
            await websocket.accept()
        except Exception as exc:
            log.info("yjs.accept_failed", error=str(exc)[:200])
            return
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch_progress(), name="yjs-watchdog")
        connection = Connection(
            websocket,
            socket,
            caller.key_prefix,
            max_backlog_bytes=self._options.max_backlog_bytes,
            send_timeout_seconds=self._options.send_timeout_seconds,
        )
        room: Room | None = None
        try:
            if self._shutting_down:
                connection.close(CLOSE_GOING_AWAY, "server shutting down")
            elif caller.key_prefix in self._revoked:
                connection.close(CLOSE_UNAUTHORIZED, "API key revoked")
            else:
                room = await self._join(caller, document, connection)
                room.greet(connection)
                await self._receive(room, connection)
        except Exception:
            log.exception("yjs.connection_failed", tenant=caller.tenant.name, document=document)
            connection.close(CLOSE_SERVER_ERROR, "document unavailable")
        finally:
            if room is not None:
                self._leave(room, connection)
            connection.close(CLOSE_NORMAL, "")

    def connected_key_prefixes(self) -> set[str]:
        """The API keys open sockets authenticated with."""
        return {
            connection.key_prefix
            for room in self._rooms.values()
            for connection in room.connections
        }

    async def disconnect_key(self, prefix: str, why: Disconnect = Disconnect.REVOKED) -> None:
        if why == Disconnect.REVOKED:  # for good: a join racing the notice is refused too
            self._revoked[prefix] = None
            while len(self._revoked) > REMEMBERED_REVOCATIONS:
                del self._revoked[next(iter(self._revoked))]
        for room in list(self._rooms.values()):
            for connection in list(room.connections):
                if connection.key_prefix == prefix:
                    connection.close(why.code, why.reason)

    async def close(self) -> None:
        self._shutting_down = True
        for room in list(self._rooms.values()):
            for connection in list(room.connections):
                connection.close(CLOSE_GOING_AWAY, "server shutting down")
        # each socket's serve() returns, and the last one out of a room shuts the room down
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                while self._rooms or self._closing:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            log.error("yjs.shutdown_incomplete", rooms=len(self._rooms) + len(self._closing))
            for task in list(self._closing.values()):
                task.cancel()
        await self._committer.close()
        await self._store.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog

    async def _join(self, caller: Caller, document: str, connection: Connection) -> Room:
        key = (caller.tenant.id, document)
        # a room being shut down is still writing its snapshot; the next one loads after it
        while key in self._closing:
            await asyncio.wait([self._closing[key]])
        room = self._rooms.get(key)
        if room is None:
            room = self._open(caller.tenant, document, self._document_limit(caller))
            self._rooms[key] = room
        room.connections.add(connection)
        try:
            await room.ready()
        except BaseException:
            self._leave(room, connection)
            raise
        return room

    def _open(self, tenant: Tenant, document: str, document_limit: int) -> Room:
        options = dataclasses.replace(self._options, document_max_bytes=document_limit)
        room = Room(tenant, document, self._store, self._committer, options)
        room.on_broken = self._retire
        return room

    def _leave(self, room: Room, connection: Connection) -> None:
        room.leave(connection)
        key = (room.tenant.id, room.document)
        if room.connections or self._rooms.get(key) is not room:
            return
        self._retire(room)

    def _retire(self, room: Room) -> None:
        """Let the room go: it stores what it holds, then its document may load afresh."""
        key = (room.tenant.id, room.document)
        if self._rooms.get(key) is not room:
            return
        del self._rooms[key]
        self._closing[key] = asyncio.create_task(self._shut_down(key, room), name="yjs-room-close")
        self._changed.set()

    async def _shut_down(self, key: RoomKey, room: Room) -> None:
        try:
            await room.shut_down()
        except Exception:
            log.exception("yjs.room_shutdown_failed", document=room.document)
        finally:
            if self._closing.get(key) is asyncio.current_task():
                del self._closing[key]
            self._changed.set()

    async def _receive(self, room: Room, connection: Connection) -> None:
        """Messages are handled as they arrive (``_handle_now``); this loop takes those that
        have to wait, and learns of the client's going away."""
        socket = connection.socket
        socket.listen(lambda frame: self._handle_now(room, connection, frame))
        try:
            while not connection.closing:
                event = await connection.websocket.receive()
                if event["type"] == "websocket.disconnect":
                    connection.mark_gone()
                    return
                frame = event.get("bytes")
                if frame is None:
                    connection.close(CLOSE_BAD_MESSAGE, "y-websocket messages are binary")
                    return
                try:
                    limit = room.awareness_limit
                    await room.handle(
                        connection, protocol.parse_message(frame, max_awareness_states=limit)
                    )
                except protocol.ProtocolError as exc:
                    self._refuse(room, connection, exc)
                    return
                except RoomUnavailable:
                    return
                if not socket.has_queued_messages:
                    connection.queued = False
        finally:
            socket.listen(None)

    def _handle_now(self, room: Room, connection: Connection, frame: bytes) -> bool:
        """Called by the protocol as a message arrives: True when it is dealt with."""
        if connection.closing:
            return True  # nothing more is accepted from it
        if connection.queued:
            return False
        try:
            message = protocol.parse_message(frame, max_awareness_states=room.awareness_limit)
            if room.handle_now(connection, message):
                return True
        except protocol.ProtocolError as exc:
            self._refuse(room, connection, exc)
            return True
        connection.queued = True
        return False

    @staticmethod
    def _refuse(room: Room, connection: Connection, exc: protocol.ProtocolError) -> None:
        log.info("yjs.protocol_error", document=room.document, reason=exc.reason)
        connection.close(CLOSE_BAD_MESSAGE, exc.reason)

    async def _watch_progress(self) -> None:
        """Close sockets whose client stopped reading, or reads too slowly to keep up."""
        while True:
            await asyncio.sleep(PROGRESS_CHECK_SECONDS)
            now = time.monotonic()
            for room in list(self._rooms.values()):
                for connection in list(room.connections):
                    connection.check_progress(now)
