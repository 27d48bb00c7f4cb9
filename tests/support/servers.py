"""Serve an ASGI app for real (uvicorn on a TCP port) from a background thread.

The app is built inside the server's own event loop, so engines and tasks it creates belong
to that loop; tests talk to it over the network like any client would.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from webhost.http.server import server_config

AppFactory = Callable[[], Awaitable[ASGIApp]]


def bind_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServedApp:
    def __init__(
        self, build: AppFactory, *, port: int = 0, tls: tuple[str, str] | None = None
    ) -> None:
        """``tls``: (certificate file, key file) to serve HTTPS with."""
        self._build = build
        self._requested_port = port
        self._tls = tls
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self._tls else 'ws'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServedApp:
        sock = bind_socket(self._requested_port)
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("server did not start")
        if self._error is not None:
            raise RuntimeError("server failed to start") from self._error
        return self

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # surfaced to the test thread by start()
            self._error = exc
            self._started.set()

    async def _serve(self, sock: socket.socket) -> None:
        self.loop = asyncio.get_running_loop()
        app = await self._build()
        tls = {"ssl_certfile": self._tls[0], "ssl_keyfile": self._tls[1]} if self._tls else {}
        self._server = uvicorn.Server(server_config(app, ws_ping_interval=None, **tls))
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.02)
        self._started.set()
        await serving
        sock.close()

    def call(self, coroutine: Awaitable[Any], timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (for objects that live there)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def stop(self, timeout: float = 30) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("server did not stop")


def fixed_port_range(width: int) -> int:
    """The first of ``width`` ports for servers that keep their port across restarts (dedicated
    data planes), below the kernel's ephemeral range: a port from that range, freed by a kill,
    can be taken at once by any outgoing connection, and the restarted server cannot bind."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    lowest = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32_768
    return random.randrange(10_000, lowest - width, width)
