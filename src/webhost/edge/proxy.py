"""The edge's proxy: HTTP/1.1 keep-alive and WebSocket upgrades, passed through as bytes.

Each client connection keeps one connection to the plane it last talked to, so a keep-alive
client pays for the upstream connect once. Request heads are rewritten (the ``/d/<slug>``
prefix goes, ``X-Forwarded-*`` come); bodies are copied by their framing as they arrive; after
a ``101 Switching Protocols`` both directions are copied until either side closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from dataclasses import dataclass
from typing import Protocol

import structlog

from webhost.edge import http1
from webhost.edge.http1 import Head, MalformedMessage
from webhost.edge.routes import Route, split_target
from webhost.errors import error_body

log = structlog.get_logger(__name__)

HEAD_TIMEOUT_SECONDS = 30.0
IDLE_TIMEOUT_SECONDS = 75.0
CONNECT_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2
# headers that describe one connection, not the message: never passed on as they came
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect")


class RouteSource(Protocol):
    async def resolve(self, slug: str) -> Route | None: ...


@dataclass
class Upstream:
    route: Route
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


@dataclass
class ClientConnection:
    """One client's connection and the plane connection it keeps (closed with it, whatever
    interrupts an exchange)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    address: str
    upstream: Upstream | None = None

    def drop_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None


class EdgeProxy:
    def __init__(self, routes: RouteSource) -> None:
        self.routes = routes

    async def serve(self, sock: socket.socket) -> None:
        server = await asyncio.start_server(self._connection, sock=sock, limit=http1.MAX_HEAD_BYTES)
        async with server:
            await server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = ClientConnection(reader, writer, peer[0] if isinstance(peer, tuple) else "unknown")
        timeout = HEAD_TIMEOUT_SECONDS
        try:
            while True:
                try:
                    head = await asyncio.wait_for(http1.read_head(reader), timeout)
                except TimeoutError:
                    break
                if head is None:
                    break
                timeout = IDLE_TIMEOUT_SECONDS
                if not await self._exchange(head, client):
                    break
        except MalformedMessage as exc:
            await _answer(writer, 400, "bad_request", f"malformed request: {exc}")
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass  # either side went away: nothing to tell anybody
        finally:
            client.drop_upstream()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _exchange(self, head: Head, client: ClientConnection) -> bool:
        """One request and its response; returns whether the client connection stays open."""
        method, target, version = _request_line(head)
        writer = client.writer
        if target == "/health":
            await _answer(writer, 200, "ok", "the edge is up", keep_open=True)
            return True
        split = split_target(target)
        route = await self.routes.resolve(split[0]) if split is not None else None
        if split is None or route is None:
            await _answer(writer, 404, "not_found", f"no deployment is served at {target[:80]}")
            return False
        slug, rest = split
        if client.upstream is not None and client.upstream.route != route:
            client.drop_upstream()
        if client.upstream is None:
            try:
                client.upstream = await _connect(route)
            except (OSError, TimeoutError):
                await _answer(
                    writer,
                    503,
                    "busy",
                    "the deployment's data plane cannot be reached; send the request again",
                    retry_after=RETRY_AFTER_SECONDS,
                )
                return False
        upstream = client.upstream
        upgrade = "upgrade" in head.tokens("connection") and head.get("upgrade") is not None
        client_closes = version == "HTTP/1.0" or "close" in head.tokens("connection")
        length = http1.content_length(head)
        chunked = http1.is_chunked(head)
        if chunked and length is not None:
            raise MalformedMessage("a request cannot have both Content-Length and chunked")
        if "100-continue" in head.tokens("expect"):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        forwarded = _upstream_head(
            head, method, route.base_path + rest, slug, client.address, upgrade
        )
        upstream.writer.write(forwarded.encode())
        if chunked:
            await http1.copy_chunked(client.reader, upstream.writer)
        elif length:
            await http1.copy_exactly(client.reader, upstream.writer, length)
        await upstream.writer.drain()
        return await self._respond(method, client, upstream, upgrade, client_closes)

    async def _respond(
        self,
        method: str,
        client: ClientConnection,
        upstream: Upstream,
        upgrade: bool,
        client_closes: bool,
    ) -> bool:
        writer = client.writer
        while True:
            response = await http1.read_head(upstream.reader)
            if response is None:
                raise ConnectionError("the data plane closed the connection")
            status = _status(response)
            if status == 101 and upgrade:
                writer.write(response.encode())
                await writer.drain()
                await _splice(client.reader, writer, upstream)
                return False
            if 100 <= status < 200:
                writer.write(response.encode())  # e.g. 103 Early Hints: passed on, then the rest
                continue
            break
        upstream_closes = "close" in response.tokens("connection")
        no_body = method == "HEAD" or status in (204, 304)
        length = None if no_body else http1.content_length(response)
        chunked = not no_body and http1.is_chunked(response)
        delimited_by_close = not no_body and length is None and not chunked
        closing = client_closes or delimited_by_close
        if closing and "close" not in response.tokens("connection"):
            response.headers = [*response.without("connection"), ("Connection", "close")]
        writer.write(response.encode())
        if chunked:
            await http1.copy_chunked(upstream.reader, writer)
        elif length:
            await http1.copy_exactly(upstream.reader, writer, length)
        elif delimited_by_close:
            await http1.copy_until_closed(upstream.reader, writer)
        await writer.drain()
        if upstream_closes or delimited_by_close:
            client.drop_upstream()
        return not closing


def _request_line(head: Head) -> tuple[str, str, str]:
    parts = head.start_line.split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1].startswith("/"):
        raise MalformedMessage("the request line is not 'METHOD /path HTTP/1.1'")
    method, target, version = parts
    if not method.isalpha() or not method.isupper():
        raise MalformedMessage("the request method is invalid")
    return method, target, version


def _status(head: Head) -> int:
    parts = head.start_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError("the data plane sent a malformed status line")
    return int(parts[1])


def _upstream_head(
    head: Head, method: str, target: str, slug: str, client_address: str, upgrade: bool
) -> Head:
    headers = head.without(*HOP_BY_HOP, "x-forwarded-prefix")
    forwarded_for = head.get("x-forwarded-for")
    headers = [(key, value) for key, value in headers if key.lower() != "x-forwarded-for"]
    headers.append(
        (
            "X-Forwarded-For",
            f"{forwarded_for}, {client_address}" if forwarded_for else client_address,
        )
    )
    headers.append(("X-Forwarded-Prefix", f"/d/{slug}"))
    if upgrade:
        headers += [("Connection", "Upgrade"), ("Upgrade", head.get("upgrade") or "")]
    return Head(f"{method} {target} HTTP/1.1", headers)


async def _connect(route: Route) -> Upstream:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(route.host, route.port, limit=http1.MAX_HEAD_BYTES),
        CONNECT_TIMEOUT_SECONDS,
    )
    return Upstream(route, reader, writer)


async def _splice(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: Upstream
) -> None:
    """Both directions of an upgraded connection, until either side closes."""
    directions = [
        asyncio.create_task(http1.copy_until_closed(reader, upstream.writer)),
        asyncio.create_task(http1.copy_until_closed(upstream.reader, writer)),
    ]
    try:
        await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for direction in directions:
            direction.cancel()
        for direction in directions:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await direction
        upstream.close()


async def _answer(
    writer: asyncio.StreamWriter,
    status: int,
    code: str,
    message: str,
    *,
    keep_open: bool = False,
    retry_after: int | None = None,
) -> None:
    body = json.dumps(error_body(code, message) if status >= 400 else {"status": code}).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 503: "Service Unavailable"}
    lines = [
        f"HTTP/1.1 {status} {reason.get(status, 'Error')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if retry_after is not None:
        lines.append(f"Retry-After: {retry_after}")
    if not keep_open:
        lines.append("Connection: close")
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
