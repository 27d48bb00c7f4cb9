"""WebSockets to the data plane, authenticated by header so the key never sits in a URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from webhost.client.backoff import Backoff
from webhost.client.transport import authorization

logger = logging.getLogger(__name__)

# a close code with which the server says: do not come back with this key or this document
FINAL_CLOSE_CODES = frozenset({4401, 4413})


async def open_socket(url: str, api_key: str) -> ClientConnection:
    return await connect(
        url,
        additional_headers=authorization(api_key),
        proxy=None,
        max_size=None,  # a document or a page is as large as the server makes it
        open_timeout=20,
        compression=None,
    )


def refused_for_good(error: BaseException) -> bool:
    """The handshake was answered 401/403: retrying with the same key cannot help."""
    return isinstance(error, InvalidStatus) and error.response.status_code in (401, 403)


def websocket_url(sync_url: str) -> str:
    """The sync URL as given (ws:// or wss://), or an http(s) URL turned into one."""
    url = sync_url.rstrip("/")
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    return url


async def stay_connected(
    url: str,
    api_key: str,
    serve: Callable[[ClientConnection], Awaitable[None]],
    after: Callable[[], Awaitable[None]],
    *,
    what: str,
    lost: tuple[type[Exception], ...] = (),
) -> tuple[int, str]:
    """Connect and ``serve`` the socket, then ``after`` it is lost, again and again with
    back-off, until the server refuses for good: returns the HTTP status of a refused
    handshake (reason empty) or the final close code and its reason."""
    backoff = Backoff()
    losses: tuple[type[BaseException], ...] = (OSError, ConnectionClosed, *lost)
    while True:
        try:
            socket = await open_socket(url, api_key)
        except (OSError, TimeoutError, WebSocketException) as exc:
            if isinstance(exc, InvalidStatus) and refused_for_good(exc):
                return exc.response.status_code, ""
            await asyncio.sleep(backoff.delay())
            continue
        backoff.reset()
        try:
            await serve(socket)
        except losses as exc:
            logger.info("%s lost: %s", what, exc)
        finally:
            await after()
            await socket.close()
        if socket.close_code in FINAL_CLOSE_CODES:
            return socket.close_code or 0, socket.close_reason or ""
        await asyncio.sleep(backoff.delay())
