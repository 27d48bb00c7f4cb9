"""The framing of a tenant dump: what one plane streams and another restores.

A dump is a line of JSON naming the format, then frames. A frame is one line of JSON (its
``kind`` first); a ``data`` frame is followed by exactly ``size`` bytes of the current table's
binary COPY stream. The last frame is ``end``: a stream cut anywhere before it is incomplete,
and a restore of it changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

FORMAT = {"format": "webhost-tenant-dump", "version": 1}
MEDIA_TYPE = "application/vnd.webhost.tenant-dump"
# a frame's JSON line: the keys of a large tenant fit many times over
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_DATA_BYTES = 64 * 1024 * 1024


class DumpError(Exception):
    """The stream is not a complete, well-formed dump; the message says where it went wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def frame(kind: str, **fields: Any) -> bytes:
    return json.dumps({"kind": kind, **fields}, separators=(",", ":")).encode() + b"\n"


def opening() -> bytes:
    return json.dumps(FORMAT).encode() + b"\n"


class FrameReader:
    """Reads frames off a stream of byte chunks of any size."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._ended = False

    async def _fill(self) -> bool:
        if self._ended:
            return False
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            self._ended = True
            return False
        self._buffer += chunk
        return True

    async def line(self) -> dict[str, Any]:
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_LINE_BYTES:
                raise DumpError(f"a frame is longer than {MAX_LINE_BYTES} bytes")
            if not await self._fill():
                raise DumpError("the dump ends before its 'end' frame: it is incomplete")
        raw = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise DumpError("a frame is not a line of JSON") from None
        if not isinstance(parsed, dict):
            raise DumpError("a frame is not a JSON object")
        return parsed

    async def frame(self) -> dict[str, Any]:
        parsed = await self.line()
        if not isinstance(parsed.get("kind"), str):
            raise DumpError("a frame has no 'kind'")
        return parsed

    async def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._fill():
                raise DumpError("the dump ends inside a data frame: it is incomplete")
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    async def opening(self) -> None:
        if await self.line() != FORMAT:
            raise DumpError(
                f"the stream is not a tenant dump of format {FORMAT['format']} "
                f"version {FORMAT['version']}"
            )


def data_size(found: dict[str, Any]) -> int:
    size = found.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_DATA_BYTES:
        raise DumpError(f"a data frame's size must be an integer from 1 to {MAX_DATA_BYTES}")
    return size
