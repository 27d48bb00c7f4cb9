"""An upstream that shows what reached it, and the edge proxy in front of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route as HttpRoute
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from tests.support.servers import ServedApp, bind_socket
from webhost.edge.proxy import EdgeProxy
from webhost.edge.routes import Route


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "body": body.decode("latin-1"),
            "headers": dict(request.headers.items()),
        }
    )


async def stream(request: Request) -> StreamingResponse:
    release = request.app.state.release

    async def parts() -> AsyncIterator[bytes]:
        yield b"first\n"
        await asyncio.wait_for(release.wait(), 30)
        yield b"second\n"

    return StreamingResponse(parts(), media_type="text/plain")


async def echo_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive_text()
        if message == "bye":
            await websocket.close()
            return
        await websocket.send_text(f"echo {message}")


def upstream_app(name: str) -> Starlette:
    app = Starlette(
        routes=[
            HttpRoute("/stream", stream),
            HttpRoute("/{path:path}", echo, methods=["GET", "POST", "PUT", "HEAD", "DELETE"]),
            WebSocketRoute("/socket", echo_socket),
        ]
    )
    app.state.release = asyncio.Event()
    app.state.name = name
    return app


@dataclass
class StaticRoutes:
    """Routes set by the test, as the control database would hold them."""

    table: dict[str, Route] = field(default_factory=dict)

    async def resolve(self, slug: str) -> Route | None:
        return self.table.get(slug)


@dataclass
class Edge:
    url: str
    routes: StaticRoutes
    upstreams: dict[str, ServedApp]

    def release_stream(self, name: str) -> None:
        served = self.upstreams[name]
        app = served.app
        served.call(_set(app.state.release))


async def _set(event: asyncio.Event) -> None:
    event.set()


def serve_upstream(name: str) -> ServedApp:
    holder: dict[str, Starlette] = {}

    async def build() -> Starlette:
        holder["app"] = upstream_app(name)
        return holder["app"]

    served = ServedApp(build).start()  # type: ignore[arg-type]
    served.app = holder["app"]  # type: ignore[attr-defined]
    return served


class RunningEdge:
    """The edge proxy on its own event loop in a thread, as ``webhost up`` runs it."""

    def __init__(self, routes: StaticRoutes) -> None:
        self.sock = bind_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(routes),))
        self._thread.start()
        self._started.wait(10)

    async def _main(self, routes: StaticRoutes) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        serving = asyncio.create_task(EdgeProxy(routes).serve(self.sock))
        self._started.set()
        await self._stop.wait()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving

    def stop(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    upstreams = {name: serve_upstream(name) for name in ("one", "two")}
    routes = StaticRoutes(
        {
            "aaaa000000000001": Route("127.0.0.1", upstreams["one"].port, ""),
            "bbbb000000000002": Route("127.0.0.1", upstreams["two"].port, "/base"),
            "dead000000000003": Route("127.0.0.1", closed_port(), ""),
        }
    )
    running = RunningEdge(routes)
    yield Edge(running.url, routes, upstreams)
    running.stop()
    for served in upstreams.values():
        served.stop()


def decoded(text: str) -> dict[str, object]:
    value: dict[str, object] = json.loads(text)
    return value
