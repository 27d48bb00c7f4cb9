"""Just enough HTTP/1.1 for a proxy: message heads, and copying bodies by their framing.

Bodies are copied as they arrive (never buffered whole), so streamed responses (server-sent
events, long polls) and large uploads pass through at once and in constant memory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
COPY_CHUNK = 64 * 1024


class MalformedMessage(Exception):
    """The peer sent something that is not HTTP/1.1 we can pass on."""


@dataclass
class Head:
    start_line: str
    # (name as sent, value), in order: repeated headers stay repeated
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def tokens(self, name: str) -> set[str]:
        """A comma-separated header's tokens, lower-cased, over every occurrence."""
        lowered = name.lower()
        return {
            token.strip().lower()
            for key, value in self.headers
            if key.lower() == lowered
            for token in value.split(",")
            if token.strip()
        }

    def without(self, *names: str) -> list[tuple[str, str]]:
        dropped = {name.lower() for name in names}
        return [(key, value) for key, value in self.headers if key.lower() not in dropped]

    def encode(self) -> bytes:
        lines = [self.start_line, *(f"{key}: {value}" for key, value in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message head; None when the peer closed cleanly between messages."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise MalformedMessage("the message head was cut short") from exc
    except asyncio.LimitOverrunError as exc:
        raise MalformedMessage("the message head is too large") from exc
    if len(raw) > MAX_HEAD_BYTES:
        raise MalformedMessage("the message head is too large")
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise MalformedMessage("the message head is not text") from exc
    lines = text[:-4].split("\r\n")
    if len(lines) - 1 > MAX_HEADERS:
        raise MalformedMessage("too many headers")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or "\0" in line:
            raise MalformedMessage("a header line is malformed")
        headers.append((name, value.strip()))
    return Head(lines[0], headers)


def content_length(head: Head) -> int | None:
    values = {value for key, value in head.headers if key.lower() == "content-length"}
    if not values:
        return None
    if len(values) > 1 or not next(iter(values)).isdigit():
        raise MalformedMessage("the Content-Length header is invalid")
    return int(next(iter(values)))


def is_chunked(head: Head) -> bool:
    codings = head.tokens("transfer-encoding")
    if codings and codings != {"chunked"}:
        raise MalformedMessage("only the chunked transfer coding is supported")
    return bool(codings)


async def copy_exactly(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int
) -> None:
    remaining = size
    while remaining:
        data = await reader.read(min(remaining, COPY_CHUNK))
        if not data:
            raise MalformedMessage("the body was cut short")
        writer.write(data)
        remaining -= len(data)
        await writer.drain()


async def copy_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Chunks as they come, the last chunk and any trailers included."""
    while True:
        try:
            size_line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise MalformedMessage("a chunk header is malformed") from exc
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise MalformedMessage("a chunk size is not hexadecimal") from exc
        writer.write(size_line)
        if size == 0:
            break
        await copy_exactly(reader, writer, size + 2)  # the data and its CRLF
    while True:  # trailers, up to the empty line
        try:
            line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise MalformedMessage("the chunked trailer is malformed") from exc
        writer.write(line)
        if line == b"\r\n":
            break
    await writer.drain()


async def copy_until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(COPY_CHUNK):
        writer.write(data)
        await writer.drain()
