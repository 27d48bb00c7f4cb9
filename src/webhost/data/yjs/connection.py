"""One client socket of a room: an outbox drained by its own task, so a slow or vanished client
never holds up the room, and a failed send only ever ends that one connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

import structlog
from fastapi import WebSocket

log = structlog.get_logger(__name__)

# application close codes (4000-4999), in the spirit of HTTP statuses; y-websocket clients
# do not reconnect after a 44xx close
CLOSE_GOING_AWAY = 1001
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401

# a client this far behind gets disconnected; it resyncs when it reconnects
MAX_OUTBOX_BYTES = 16 * 1024 * 1024
# how long a close frame may take to leave before the socket is simply dropped
CLOSE_GRACE_SECONDS = 5.0


class Connection:
    def __init__(self, websocket: WebSocket, key_prefix: str) -> None:
        self.websocket = websocket
        self.key_prefix = key_prefix
        self.awareness_ids: set[int] = set()
        # set once the client sent a malformed update: nothing it sent later is stored
        self.rejected = False
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wakeup = asyncio.Event()
        self._close_request: tuple[int, str] | None = None
        self._gone = False
        self._sender = asyncio.create_task(self._send_all(), name="yjs-connection-sender")

    @property
    def closing(self) -> bool:
        """Closed, or about to be: nothing more is sent to or accepted from this client."""
        return self._gone or self._close_request is not None

    def send(self, message: bytes) -> None:
        if self.closing:
            return
        if self._outbox_bytes + len(message) > MAX_OUTBOX_BYTES:
            self.close(CLOSE_TRY_AGAIN_LATER, "too far behind")
            return
        self._outbox.append(message)
        self._outbox_bytes += len(message)
        self._wakeup.set()

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self._close_request = (code, reason[:120])
        self._outbox.clear()
        self._outbox_bytes = 0
        self._wakeup.set()

    def mark_gone(self) -> None:
        """The client disconnected: there is nobody left to send to."""
        self._gone = True
        self._outbox.clear()
        self._wakeup.set()

    async def finish(self) -> None:
        """Let a requested close frame go out, then stop the sender."""
        if not self.closing:
            self.close(1000, "")
        if self._close_request is not None and not self._gone:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_GRACE_SECONDS)
        self._sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender

    async def _send_all(self) -> None:
        try:
            while not self._gone:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox and self._close_request is None and not self._gone:
                    message = self._outbox.popleft()
                    self._outbox_bytes -= len(message)
                    await self.websocket.send_bytes(message)
                if self._close_request is not None and not self._gone:
                    code, reason = self._close_request
                    await self.websocket.close(code=code, reason=reason)
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # the client went away mid-send; its receive loop sees the disconnect and cleans up
            log.debug("yjs.send_failed", error=str(exc)[:200])
            self._gone = True
