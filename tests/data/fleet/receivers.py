"""A webhook receiver served over real HTTP: it records what it is sent and answers with the
statuses a test scripts (then 200)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.servers import ServedApp


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    async def hook(request: Request) -> Response:
        receiver.received.append(Received(dict(request.headers), await request.body()))
        status = receiver.statuses.popleft() if receiver.statuses else 200
        return Response(status_code=status)

    async def build() -> Starlette:
        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    served = ServedApp(build).start()
    receiver.url = f"{served.url}/hook"
    try:
        yield receiver
    finally:
        served.stop()
