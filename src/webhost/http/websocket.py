"""WebSocket serving for the data plane: uvicorn's sans-I/O protocol plus a direct frame path.

A Yjs update goes to every socket of a room. Through ASGI each copy would be framed, wrapped and
awaited once per socket; instead the frame is encoded once (``binary_frame``) and written to each
transport (``DirectSocket.write``), which never waits: a socket that falls behind is measured by
its transport buffer and closed, so a slow or stalled client can never hold up its room.

The protocol class puts a ``DirectSocket`` in the ASGI scope under ``DIRECT_SOCKET``; everything
else (handshake, receiving, pings) is uvicorn's.
"""

from __future__ import annotations

import struct
from collections.abc import MutableMapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

DIRECT_SOCKET = "webhost.direct_socket"

_BINARY_FIN = 0x82
# a close frame that cannot leave (the peer stopped reading) is given this long, then the
# connection is cut
CLOSE_GRACE_SECONDS = 5.0


def binary_frame(payload: bytes) -> bytes:
    """One unmasked, final binary frame, as a server sends it (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        header = bytes((_BINARY_FIN, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _BINARY_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _BINARY_FIN, 127, size)
    return header + payload


class DirectSocket:
    """Writes pre-encoded frames straight to one connection's transport."""

    def __init__(self, protocol: DataPlaneWebSocketProtocol) -> None:
        self._protocol = protocol

    @property
    def open(self) -> bool:
        protocol = self._protocol
        return (
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and not protocol.transport.is_closing()
        )

    @property
    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel: how far behind the client is."""
        if self._protocol.transport.is_closing():
            return 0
        return self._protocol.transport.get_write_buffer_size()

    def write(self, frame: bytes) -> int | None:
        """Queue one whole frame (from ``binary_frame``); returns the bytes still buffered
        afterwards, or None once the socket is closing."""
        protocol = self._protocol
        transport = protocol.transport
        if protocol.close_sent or transport.is_closing():
            return None
        transport.write(frame)
        return transport.get_write_buffer_size()

    def set_max_message_size(self, size: int) -> None:
        """Messages from the client larger than this end the connection (1009)."""
        self._protocol.conn.max_message_size = size

    def close(self, code: int, reason: str) -> None:
        """Send a close frame without waiting for the buffer to drain; cut the connection if
        the handshake is not finished within the grace period."""
        self._protocol.close_now(code, reason)


class DataPlaneWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # the ASGI task that reads the scope runs only on the next loop iteration
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][DIRECT_SOCKET] = {"socket": DirectSocket(self)}

    def close_now(self, code: int, reason: str) -> None:
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        try:
            self.conn.send_close(code, reason)
        except InvalidState:
            self.transport.abort()
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self._cut_after_grace()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        # uvicorn closes the transport, which waits for a buffer a dead peer never drains
        self._cut_after_grace()

    def _cut_after_grace(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
        self.close_timer = self.loop.call_later(CLOSE_GRACE_SECONDS, self._cut)

    def _cut(self) -> None:
        self.close_timer = None
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.transport.abort()


def direct_socket(scope: MutableMapping[str, Any]) -> DirectSocket | None:
    """The scope's direct frame path, when the server is WebHost's own."""
    extension = (scope.get("extensions") or {}).get(DIRECT_SOCKET)
    if extension is None:
        return None
    socket: DirectSocket = extension["socket"]
    return socket
