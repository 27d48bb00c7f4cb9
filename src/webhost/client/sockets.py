"""WebSockets to the data plane, authenticated by header so the key never sits in a URL."""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from webhost.client.transport import authorization

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
