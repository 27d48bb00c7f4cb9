"""A TCP proxy on loopback that can fail the way networks do: refuse every connection (the
device is offline), or pass requests on and cut the connection as the answer starts (the
server did the work, the client never hears of it)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from enum import Enum

from webhost.db.urls import PostgresURL


class Mode(Enum):
    PASS = "pass"
    OFFLINE = "offline"
    CUT_ANSWERS = "cut answers"


class FaultyProxy:
    """To 127.0.0.1:``upstream_port``, or to the Unix socket ``upstream_socket``."""

    def __init__(self, upstream_port: int = 0, *, upstream_socket: str | None = None) -> None:
        self.upstream_port = upstream_port
        self.upstream_socket = upstream_socket
        # (trust, server name): speak TLS to the upstream, as an edge does to its origin
        self.upstream_tls: tuple[ssl.SSLContext, str] | None = None
        self.mode = Mode.PASS
        self.cut_answers = 0  # answers the server sent and the client never got
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self._thread.start()
        server = self._call(asyncio.start_server(self._connected, "127.0.0.1", 0))
        assert isinstance(server, asyncio.Server)
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        return self

    def switch(self, mode: Mode, *, upstream_port: int | None = None) -> None:
        """Take a new mode (and upstream); open connections are cut, new ones follow it."""

        async def apply() -> None:
            self.mode = mode
            if upstream_port is not None:
                self.upstream_port = upstream_port
            for writer in list(self._writers):
                writer.close()

        self._call(apply())

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.close()

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _call(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)  # type: ignore[arg-type]

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = self.mode
        if mode is Mode.OFFLINE:
            writer.close()
            return
        try:
            if self.upstream_socket is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self.upstream_socket)
            else:
                trust, name = self.upstream_tls or (None, None)
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self.upstream_port, ssl=trust, server_hostname=name
                )
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(
                self._copy(reader, up_writer, cut=False),
                self._copy(up_reader, writer, cut=mode is Mode.CUT_ANSWERS),
            )
        finally:
            self._writers -= {writer, up_writer}
            for each in (writer, up_writer):
                each.close()

    async def _copy(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, *, cut: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(65536):
                if cut:
                    self.cut_answers += 1
                    break
                target.write(chunk)
                await target.drain()
        target.close()


def database_proxy(database: PostgresURL) -> tuple[FaultyProxy, PostgresURL]:
    """A started proxy in front of ``database``'s server (TCP or Unix socket), and the address
    that reaches the same database through it."""
    url = database.url
    socket_dir = url.query.get("host") or url.host or ""
    port = url.port or 5432
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        proxy = FaultyProxy(upstream_socket=f"{socket_dir}/.s.PGSQL.{port}").start()
    else:
        proxy = FaultyProxy(port).start()
    through = url.set(host="127.0.0.1", port=proxy.port).difference_update_query(["host"])
    return proxy, PostgresURL(through)
