"""One client socket of a room. Frames are written straight to its transport, never awaited, so
a slow or vanished client costs only its own socket: one whose oldest unsent frame is older than
the send timeout (it stopped reading, or cannot keep up), or that is more bytes behind than the
backlog limit, is closed and resyncs when it comes back.
"""

from __future__ import annotations

import time
from collections import deque

from fastapi import WebSocket

from webhost.http.websocket import CLOSE_TRY_AGAIN_LATER, DirectSocket


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        socket: DirectSocket,
        key_prefix: str,
        *,
        max_backlog_bytes: int,
        send_timeout_seconds: float,
    ) -> None:
        self.websocket = websocket
        self.key_prefix = key_prefix
        self.awareness_ids: set[int] = set()
        self._socket = socket
        self._max_backlog = max_backlog_bytes
        self._send_timeout = send_timeout_seconds
        # bytes of document replies still allowed to sit in the buffer: a newcomer's first
        # sync may be far larger than the backlog limit, and must still reach it
        self._allowance = 0
        self._written = 0
        # frames still (partly) in the buffer: where each ends in the byte stream, and when
        # it was written; the oldest one's age is how far behind the client is
        self._unsent: deque[tuple[int, float]] = deque()
        self._closing = False
        # a message of this client waits in ASGI's receive queue: later ones follow it there
        self.queued = False

    @property
    def socket(self) -> DirectSocket:
        return self._socket

    @property
    def closing(self) -> bool:
        """Closed, or about to be: nothing more is sent to or accepted from this client."""
        return self._closing or not self._socket.open

    def send(self, frame: bytes, *, reply: bool = False) -> None:
        """Queue a frame (``http.websocket.binary_frame``); ``reply`` marks a document reply.
        The hottest code of a room: it runs once per socket for every update."""
        if self._closing:
            return
        socket = self._socket
        buffered = socket.buffered
        if buffered:  # behind: only then can a limit be reached
            allowance = self._allowance = min(self._allowance, buffered)
            if buffered - allowance > self._max_backlog:
                self.close(CLOSE_TRY_AGAIN_LATER, "too far behind")
                return
        left = socket.write(frame)
        if left is None:
            self._closing = True
            return
        self._written += len(frame)
        if reply:
            self._allowance += len(frame)
        if left:
            self._unsent.append((self._written, time.monotonic()))

    def check_progress(self, now: float) -> None:
        """Close the socket when its oldest unsent frame has waited longer than the send
        timeout (``now`` from time.monotonic)."""
        if self.closing:
            return
        taken = self._written - self._socket.buffered
        while self._unsent and self._unsent[0][0] <= taken:
            self._unsent.popleft()
        if self._unsent and now - self._unsent[0][1] > self._send_timeout:
            self.close(CLOSE_TRY_AGAIN_LATER, "not keeping up")

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self._closing = True
        self._socket.close(code, reason[:120])

    def mark_gone(self) -> None:
        """The client disconnected: there is nobody left to send to."""
        self._closing = True
