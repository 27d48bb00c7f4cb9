"""How WebHost serves its ASGI apps: one uvicorn configuration for every plane.

- WebSockets use ``DataPlaneWebSocketProtocol`` (direct frame writes) with permessage-deflate
  off: compressing each small Yjs update once per socket cost the server, and then the client,
  more than it saved, and the reference y-websocket server does not negotiate it either.
- Requests uvicorn itself refuses (not HTTP, a URL past the limit) get the same JSON error body
  as everything else instead of uvicorn's plain text.
"""

from __future__ import annotations

import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from webhost.errors import error_body
from webhost.http.websocket import DataPlaneWebSocketProtocol

# what a URL may hold (path and query), as much as httptools can parse
MAX_URL_BYTES = 65_535
# before a socket is authenticated, messages stay small; a room raises it to its document limit
WEBSOCKET_HANDSHAKE_MAX_MESSAGE = 1 << 20
SHUTDOWN_SECONDS = 5
# after an error answer the rest of the request is read and dropped for this long: closing with
# unread input makes the kernel reset the connection, and the client may lose the answer
LINGER_SECONDS = 2.0


class _UrlTooLong(Exception):
    pass


class JsonErrorHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering requests it cannot parse with a JSON error."""

    _refused = False
    _url_too_long = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_too_long = False

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def eof_received(self) -> None:
        if self._refused:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > MAX_URL_BYTES:
            self._url_too_long = True
            raise _UrlTooLong  # stops the parser; uvicorn answers with send_400_response
        super().on_url(url)

    def send_400_response(self, msg: str) -> None:
        if self._url_too_long:
            status, phrase = 414, b"URI Too Long"
            body = error_body(
                "uri_too_long", f"the request URL is longer than {MAX_URL_BYTES} bytes"
            )
        else:
            status, phrase = 400, b"Bad Request"
            body = error_body("bad_request", "the request is not valid HTTP/1.1")
        content = json.dumps(body).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (status, phrase)]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\n")
        head.append(b"content-length: %d\r\n" % len(content))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + content)
        self._refused = True
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def server_config(app: Any, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "log_level": "warning",
        "lifespan": "on",
        "proxy_headers": True,
        "access_log": False,
        "http": JsonErrorHttpProtocol,
        "ws": DataPlaneWebSocketProtocol,
        "ws_per_message_deflate": False,
        "ws_max_size": WEBSOCKET_HANDSHAKE_MAX_MESSAGE,
        # open event streams (the dashboard's live status) would otherwise hold shutdown
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
    }
    return uvicorn.Config(app, **(options | overrides))
