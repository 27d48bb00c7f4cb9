"""A y-websocket client assembled from pycrdt and a plain WebSocket, for tests that need to see
or forge individual frames. It decodes with pycrdt, not with the server's own parser."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from typing import Any
from urllib.parse import quote, urlsplit

from pycrdt import (
    Decoder,
    Doc,
    Text,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    write_message,
    write_var_uint,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.data.yjs.documents import append_text
from tests.support.polling import wait_until

QUERY_AWARENESS = bytes([3])


def document_url(ws_url: str, document: str, api_key: str | None) -> str:
    """Any document name, percent-encoded as a path segment, as a careful client would send it."""
    url = f"{ws_url}/yjs/{quote(document, safe='')}"
    return f"{url}?token={quote(api_key, safe='')}" if api_key else url


def awareness_message(client_id: int, clock: int, state: Any) -> bytes:
    encoded = json.dumps(state).encode()
    payload = write_var_uint(1) + write_var_uint(client_id) + write_var_uint(clock)
    payload += write_var_uint(len(encoded)) + encoded
    return create_awareness_message(payload)


class WirePeer:
    def __init__(self, socket: ClientConnection, doc: Doc[Any]) -> None:
        self.socket = socket
        self.doc = doc
        self.synced = False
        self.awareness: dict[int, tuple[int, Any]] = {}
        self.close_code: int | None = None
        self.close_reason = ""

    @classmethod
    def connect(
        cls, ws_url: str, document: str, api_key: str | None, *, doc: Doc[Any] | None = None
    ) -> WirePeer:
        """Connect with a fresh document, or with the one a previous connection left behind."""
        # no size limit on what the server sends, as with browsers
        opening = connect(
            document_url(ws_url, document, api_key), proxy=None, open_timeout=20, max_size=None
        )
        # entered by hand: the peer owns the socket and closes it in close()
        peer = cls(opening.__enter__(), Doc() if doc is None else doc)
        peer.send(create_sync_message(peer.doc))
        return peer

    @property
    def text(self) -> str:
        return self.shared_text("text")

    def shared_text(self, root: str) -> str:
        return str(self.doc.get(root, type=Text))

    def send(self, frame: bytes) -> None:
        self.socket.send(frame)

    def insert(self, value: str, *, root: str = "text") -> None:
        """Append to a shared text and send the update, as y-websocket does for local edits."""
        self.send(create_update_message(append_text(self.doc, value, root=root)))

    def share(self, update: bytes) -> None:
        """Apply an update made elsewhere and pass it on, as if it had been edited here."""
        self.doc.apply_update(update)
        self.send(create_update_message(update))

    def pump(self, *, for_at_most: float = 0.5) -> WirePeer:
        """Handle what the server has sent so far, for a bounded time: against a writer that
        never stops, frames keep arriving and an unbounded drain would never return."""
        deadline = time.monotonic() + for_at_most
        while self.close_code is None and time.monotonic() < deadline:
            try:
                frame = self.socket.recv(timeout=0.02)
            except TimeoutError:
                break
            except ConnectionClosed as closed:
                self.close_code = closed.rcvd.code if closed.rcvd else 1006
                self.close_reason = closed.rcvd.reason if closed.rcvd else ""
                break
            assert isinstance(frame, bytes)
            self._handle(frame)
        return self

    def _handle(self, frame: bytes) -> None:
        if frame[0] == YMessageType.SYNC:
            payload = Decoder(frame[2:]).read_message()
            assert payload is not None
            if frame[1] == YSyncMessageType.SYNC_STEP1:
                reply = bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP2])
                self.send(reply + write_message(self.doc.get_update(payload)))
            else:
                self.doc.apply_update(payload)
                self.synced = self.synced or frame[1] == YSyncMessageType.SYNC_STEP2
        elif frame[0] == YMessageType.AWARENESS:
            message = Decoder(frame[1:]).read_message()
            assert message is not None
            decoder = Decoder(message)
            for _ in range(decoder.read_var_uint()):
                client_id, clock = decoder.read_var_uint(), decoder.read_var_uint()
                self.awareness[client_id] = (clock, json.loads(decoder.read_var_string()))

    def wait_text(self, expected: str) -> None:
        shown = expected if len(expected) < 80 else f"{expected[:30]}...{expected[-30:]}"
        wait_until(
            lambda: self.pump().text == expected,
            message=f"text {shown!r} ({len(expected)} characters)",
        )

    def wait_synced(self) -> WirePeer:
        wait_until(lambda: self.pump().synced, message="sync step 2")
        return self

    def wait_closed(self) -> int:
        wait_until(lambda: self.pump().close_code is not None, message="socket closed")
        assert self.close_code is not None
        return self.close_code

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> WirePeer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class StalledPeer:
    """A client that completes the WebSocket handshake and then never reads another byte, with
    a tiny receive buffer so that what the server sends piles up on the server's side."""

    def __init__(self, ws_url: str, document: str, api_key: str) -> None:
        target = urlsplit(document_url(ws_url, document, api_key))
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.connect((target.hostname, target.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            f"GET {target.path}?{target.query} HTTP/1.1\r\nHost: {target.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.socket.recv(1)
            assert chunk, "the server closed the connection during the handshake"
            response += chunk
        assert response.startswith(b"HTTP/1.1 101"), response

    def was_cut_off(self, within: float) -> bool:
        """Read what is left: True when the server ended the connection (end of stream or
        reset) instead of still holding it open."""
        self.socket.settimeout(0.5)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                if not self.socket.recv(1 << 16):
                    return True
            except ConnectionResetError:
                return True
            except TimeoutError:
                continue
        return False

    def close(self) -> None:
        self.socket.close()
