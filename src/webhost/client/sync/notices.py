"""The live socket ``/v1/sync``: the server's hello and its revision notices, which tell the
engine to pull. Push and pull themselves go over HTTP, where a lost answer is easy to retry."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection

from webhost.client.sockets import stay_connected

logger = logging.getLogger(__name__)


class NoticeListener:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        on_hello: Callable[[dict[str, Any]], None],
        on_revision: Callable[[list[str]], None],
        on_live: Callable[[bool], None],
    ) -> None:
        self._url = url
        self._api_key = api_key
        self._on_hello = on_hello
        self._on_revision = on_revision
        self._on_live = on_live
        self.refused = False  # the server refused the key: no point reconnecting

    async def run(self) -> None:
        """Stay connected, reconnecting with back-off, until cancelled or refused for good."""
        await stay_connected(self._url, self._api_key, self._serve, self._lost, what="sync socket")
        self.refused = True

    async def _serve(self, socket: ClientConnection) -> None:
        async for frame in socket:
            if isinstance(frame, str):
                self._handle(frame)

    async def _lost(self) -> None:
        self._on_live(False)

    def _handle(self, frame: str) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "hello":
            self._on_hello(message)
            self._on_live(True)
        elif kind == "revision":
            collections = message.get("collections")
            names = (
                [n for n in collections if isinstance(n, str)]
                if isinstance(collections, list)
                else []
            )
            self._on_revision(names)
        elif kind == "error":
            logger.warning("sync socket error: %s", message.get("error"))
