"""Live Yjs rooms of one data plane: one room per (tenant, document), opened on first use and
released, after folding its log into a snapshot, when its last client leaves.

pycrdt-websocket's YRoom is not used: an update must be stored before it is applied or
broadcast, one bad socket must not disturb its room, and storage is scoped to the tenant.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import structlog
from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncEngine

from webhost.data.tenancy.scope import Tenant
from webhost.data.yjs import protocol
from webhost.data.yjs.connection import (
    CLOSE_BAD_MESSAGE,
    CLOSE_GOING_AWAY,
    CLOSE_SERVER_ERROR,
    CLOSE_UNAUTHORIZED,
    Connection,
)
from webhost.data.yjs.room import Room
from webhost.data.yjs.store import DocumentStore

if TYPE_CHECKING:
    from webhost.data.plane import Caller

log = structlog.get_logger(__name__)

RoomKey = tuple[uuid.UUID, str]

SHUTDOWN_GRACE_SECONDS = 30.0
# a key revoked while its holder was between authentication and joining a room is still refused
REMEMBERED_REVOCATIONS = 10_000


class RoomRegistry:
    def __init__(self, engine: AsyncEngine, *, compact_after: int) -> None:
        self._store = DocumentStore(engine)
        self._compact_after = compact_after
        self._rooms: dict[RoomKey, Room] = {}
        self._closing: dict[RoomKey, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._revoked: dict[str, None] = {}
        self._shutting_down = False

    @property
    def open_rooms(self) -> int:
        """Rooms in memory, counting those still storing their snapshot before they go."""
        return len(self._rooms) + len(self._closing)

    async def serve(self, websocket: WebSocket, caller: Caller, document: str) -> None:
        try:
            await websocket.accept()
        except Exception as exc:
            log.info("yjs.accept_failed", error=str(exc)[:200])
            return
        connection = Connection(websocket, caller.key_prefix)
        room: Room | None = None
        try:
            if self._shutting_down:
                connection.close(CLOSE_GOING_AWAY, "server shutting down")
            elif caller.key_prefix in self._revoked:
                connection.close(CLOSE_UNAUTHORIZED, "API key revoked")
            else:
                room = await self._join(caller.tenant, document, connection)
                room.greet(connection)
                await self._receive(room, connection)
        except Exception:
            log.exception("yjs.connection_failed", tenant=caller.tenant.name, document=document)
            connection.close(CLOSE_SERVER_ERROR, "document unavailable")
        finally:
            if room is not None:
                self._leave(room, connection)
            await connection.finish()

    def connected_key_prefixes(self) -> set[str]:
        """The API keys open sockets authenticated with."""
        return {
            connection.key_prefix
            for room in self._rooms.values()
            for connection in room.connections
        }

    async def disconnect_key(self, prefix: str) -> None:
        self._revoked[prefix] = None
        while len(self._revoked) > REMEMBERED_REVOCATIONS:
            del self._revoked[next(iter(self._revoked))]
        for room in list(self._rooms.values()):
            for connection in list(room.connections):
                if connection.key_prefix == prefix:
                    connection.close(CLOSE_UNAUTHORIZED, "API key revoked")

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

    async def _join(self, tenant: Tenant, document: str, connection: Connection) -> Room:
        key = (tenant.id, document)
        # a room being shut down is still writing its snapshot; the next one loads after it
        while key in self._closing:
            await asyncio.wait([self._closing[key]])
        room = self._rooms.get(key)
        if room is None:
            room = Room(tenant, document, self._store, compact_after=self._compact_after)
            self._rooms[key] = room
        room.connections.add(connection)
        try:
            await room.ready()
        except BaseException:
            self._leave(room, connection)
            raise
        return room

    def _leave(self, room: Room, connection: Connection) -> None:
        room.leave(connection)
        key = (room.tenant.id, room.document)
        if room.connections or self._rooms.get(key) is not room:
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
        websocket = connection.websocket
        while not connection.closing:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                connection.mark_gone()
                return
            frame = event.get("bytes")
            if frame is None:
                connection.close(CLOSE_BAD_MESSAGE, "y-websocket messages are binary")
                return
            try:
                await room.handle(connection, protocol.parse_message(frame))
            except protocol.ProtocolError as exc:
                log.info("yjs.protocol_error", document=room.document, reason=exc.reason)
                connection.close(CLOSE_BAD_MESSAGE, exc.reason)
                return
