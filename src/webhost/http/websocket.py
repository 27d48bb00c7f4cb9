"""WebSocket serving for the data plane: uvicorn's sans-I/O protocol plus a direct path.

A Yjs update goes to every socket of a room. Through ASGI each copy would be framed, wrapped and
awaited once per socket; instead the frame is encoded once (``binary_frame``) and written to each
transport (``DirectSocket.write``), which never waits: a socket that falls behind is measured by
its transport buffer and closed, so a slow or stalled client can never hold up its room.

The other way, a binary message can go to a handler the application registers
(``DirectSocket.listen``), called as the message is parsed; only messages the handler declines
(it would have to wait) take ASGI's way, through the queue and the application's receive loop,
and every later message follows them there until that loop has caught up, so order holds.
ASGI's way costs a queue, a task switch and two epoll_ctl calls (reading is paused and resumed
around each message) per message.

The protocol class puts a ``DirectSocket`` in the ASGI scope under ``DIRECT_SOCKET``; everything
else (handshake, pings, close, text frames) is uvicorn's.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketState
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

from webhost.errors import error_body

DIRECT_SOCKET = "webhost.direct_socket"

# close codes of WebHost's sockets; application codes (4000-4999) follow HTTP statuses, and
# y-websocket clients do not reconnect after a 44xx close
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_PAYMENT_REQUIRED = 4402
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_LARGE = 4413

log = structlog.get_logger(__name__)

# takes a binary message; False sends it (and what follows) through ASGI's receive instead
MessageHandler = Callable[[bytes], bool]

_BINARY_FIN = 0x82
_TEXT_FIN = 0x81
# a close frame that cannot leave (the peer stopped reading) is given this long, then the
# connection is cut
CLOSE_GRACE_SECONDS = 5.0


def binary_frame(payload: bytes) -> bytes:
    """One unmasked, final binary frame, as a server sends it (RFC 6455 section 5.2)."""
    return _frame(_BINARY_FIN, payload)


def text_frame(payload: str) -> bytes:
    """One unmasked, final text frame."""
    return _frame(_TEXT_FIN, payload.encode())


def _frame(first_byte: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = bytes((first_byte, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", first_byte, 126, size)
    else:
        header = struct.pack("!BBQ", first_byte, 127, size)
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

    async def writable(self) -> None:
        """Wait until the transport's buffer is below its high-water mark (or it closed)."""
        await self._protocol.writable.wait()

    def listen(self, handler: MessageHandler | None) -> None:
        """Hand binary messages to ``handler`` as they arrive (None: all through ASGI)."""
        self._protocol.message_handler = handler

    @property
    def has_queued_messages(self) -> bool:
        """Messages wait in ASGI's queue: the application has not caught up with them yet."""
        return not self._protocol.queue.empty()

    def set_max_message_size(self, size: int) -> None:
        """Messages from the client larger than this end the connection (1009)."""
        self._protocol.conn.max_message_size = size

    def close(self, code: int, reason: str) -> None:
        """Send a close frame without waiting for the buffer to drain; cut the connection if
        the handshake is not finished within the grace period."""
        self._protocol.close_now(code, reason)


class DataPlaneWebSocketProtocol(WebSocketsSansIOProtocol):
    message_handler: MessageHandler | None = None

    def send_receive_event_to_app(self) -> None:
        handler = self.message_handler
        if (
            handler is not None
            and self.curr_msg_data_type == "bytes"
            and not self.close_sent
            and self.queue.empty()
        ):
            data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
            try:
                handled = handler(data)
            except Exception:
                log.exception("websocket.handler_failed")
                self.close_now(1011, "internal error")
                handled = True
            if handled:
                self.frames = []
                return
            self.frames = [data]
        super().send_receive_event_to_app()

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


async def deny_handshake(
    websocket: WebSocket,
    status: int,
    close_code: int,
    reason: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer the handshake with an HTTP error when the server supports it, else close."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        code = code or {401: "unauthorized", 403: "forbidden"}.get(status, "invalid_input")
        response = JSONResponse(error_body(code, reason), status_code=status, headers=headers)
        await websocket.send_denial_response(response)
        return
    if websocket.client_state == WebSocketState.CONNECTING:
        await websocket.accept()
    await websocket.close(code=close_code, reason=reason[:120])


def direct_socket(scope: MutableMapping[str, Any]) -> DirectSocket:
    """The scope's direct frame path; the data plane is served with WebHost's own protocol
    (``DataPlaneWebSocketProtocol``), and nothing else would keep a slow client from its peers."""
    extension = (scope.get("extensions") or {}).get(DIRECT_SOCKET)
    if extension is None:
        raise RuntimeError("the data plane must be served with DataPlaneWebSocketProtocol")
    socket: DirectSocket = extension["socket"]
    return socket
