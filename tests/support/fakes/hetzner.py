"""A fake Hetzner Cloud API (``/v1``): the calls WebHost's Hetzner client makes, in memory.

It answers in Hetzner's documented shapes (resource roots, ``meta.pagination``, actions, the
``{"error": {"code", "message", "details"}}`` body), checks the bearer token, and lets a test
make the next requests to a path fail (429 with ``Retry-After``, 5xx, ...) before or after
they took effect, and an action end in error. Every request is logged with its arrival time.
"""

from __future__ import annotations

import fnmatch
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fakes import hetzner_firewalls as firewalls
from tests.support.fakes import hetzner_servers as servers
from tests.support.fakes import hetzner_volumes as volumes
from tests.support.fakes.hetzner_project import FakeProject
from tests.support.fakes.hetzner_rules import CODE_OF_STATUS, ApiError
from tests.support.servers import ServedApp

Handler = Callable[[FakeProject, list[int], dict[str, list[str]], Any], tuple[int, Any]]

_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"/v1/servers", lambda p, ids, q, b: servers.list_servers(p, q)),
    ("POST", r"/v1/servers", lambda p, ids, q, b: servers.create_server(p, b)),
    ("GET", r"/v1/servers/(\d+)", lambda p, ids, q, b: servers.get_server(p, ids[0])),
    ("PUT", r"/v1/servers/(\d+)", lambda p, ids, q, b: servers.update_server(p, ids[0], b)),
    ("DELETE", r"/v1/servers/(\d+)", lambda p, ids, q, b: servers.delete_server(p, ids[0])),
    (
        "POST",
        r"/v1/servers/(\d+)/actions/poweron",
        lambda p, ids, q, b: servers.power_on(p, ids[0]),
    ),
    (
        "GET",
        r"/v1/servers/(\d+)/actions",
        lambda p, ids, q, b: servers.server_actions(p, ids[0], q),
    ),
    ("GET", r"/v1/volumes", lambda p, ids, q, b: volumes.list_volumes(p, q)),
    ("POST", r"/v1/volumes", lambda p, ids, q, b: volumes.create_volume(p, b)),
    ("GET", r"/v1/volumes/(\d+)", lambda p, ids, q, b: volumes.get_volume(p, ids[0])),
    ("PUT", r"/v1/volumes/(\d+)", lambda p, ids, q, b: volumes.update_volume(p, ids[0], b)),
    ("DELETE", r"/v1/volumes/(\d+)", lambda p, ids, q, b: volumes.delete_volume(p, ids[0])),
    (
        "POST",
        r"/v1/volumes/(\d+)/actions/attach",
        lambda p, ids, q, b: volumes.attach(p, ids[0], b),
    ),
    (
        "POST",
        r"/v1/volumes/(\d+)/actions/detach",
        lambda p, ids, q, b: volumes.detach(p, ids[0], b),
    ),
    (
        "POST",
        r"/v1/volumes/(\d+)/actions/resize",
        lambda p, ids, q, b: volumes.resize(p, ids[0], b),
    ),
    ("GET", r"/v1/firewalls", lambda p, ids, q, b: firewalls.list_firewalls(p, q)),
    ("POST", r"/v1/firewalls", lambda p, ids, q, b: firewalls.create_firewall(p, b)),
    ("GET", r"/v1/firewalls/(\d+)", lambda p, ids, q, b: firewalls.get_firewall(p, ids[0])),
    ("PUT", r"/v1/firewalls/(\d+)", lambda p, ids, q, b: firewalls.update_firewall(p, ids[0], b)),
    ("DELETE", r"/v1/firewalls/(\d+)", lambda p, ids, q, b: firewalls.delete_firewall(p, ids[0])),
    (
        "POST",
        r"/v1/firewalls/(\d+)/actions/set_rules",
        lambda p, ids, q, b: firewalls.set_rules(p, ids[0], b),
    ),
    (
        "POST",
        r"/v1/firewalls/(\d+)/actions/apply_to_resources",
        lambda p, ids, q, b: firewalls.apply_to_resources(p, ids[0], b),
    ),
    (
        "POST",
        r"/v1/firewalls/(\d+)/actions/remove_from_resources",
        lambda p, ids, q, b: firewalls.remove_from_resources(p, ids[0], b),
    ),
    ("GET", r"/v1/actions/(\d+)", lambda p, ids, q, b: (200, {"action": p.poll_action(ids[0])})),
]


@dataclass
class Fault:
    method: str
    path: str  # an fnmatch pattern
    status: int
    remaining: int
    code: str
    message: str
    retry_after: str | None = None
    after_handling: bool = False

    def matches(self, method: str, path: str, *, after_handling: bool) -> bool:
        return (
            self.remaining > 0
            and self.after_handling == after_handling
            and self.method == method
            and fnmatch.fnmatchcase(path, self.path)
        )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    arrived: float  # time.monotonic()


def _error(error: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


@dataclass
class FakeHetzner:
    token: str
    url: str = ""  # the API endpoint, ".../v1", once served
    project: FakeProject = field(default_factory=FakeProject)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self.lock:
            self.project = FakeProject()
            self.requests.clear()
            self.faults.clear()

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int = 1,
        retry_after: str | None = None,
        code: str | None = None,
        message: str = "injected failure",
        after_handling: bool = False,
    ) -> None:
        """The next ``times`` requests to ``method path`` (a glob) answer ``status``; with
        ``after_handling`` they take effect first, as when an answer is lost on the way."""
        code = code or CODE_OF_STATUS.get(status, "server_error")
        fault = Fault(method, path, status, times, code, message, retry_after, after_handling)
        with self.lock:
            self.faults.append(fault)

    def fail_next_action(self, command: str, *, code: str, message: str) -> None:
        with self.lock:
            self.project.failing_commands.setdefault(command, []).append((code, message))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [
                request
                for request in self.requests
                if request.method == method and fnmatch.fnmatchcase(request.path, path)
            ]

    def _injected(self, method: str, path: str, *, after_handling: bool) -> JSONResponse | None:
        for fault in self.faults:
            if fault.matches(method, path, after_handling=after_handling):
                fault.remaining -= 1
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = fault.retry_after
                if fault.status == 429:
                    reset = str(int(time.time()) + 3600)
                    headers.update({"RateLimit-Limit": "3600", "RateLimit-Remaining": "0"})
                    headers["RateLimit-Reset"] = reset
                error = ApiError(fault.code, fault.message)
                error.status = fault.status
                return _error(error, headers)
        return None

    def _answer(self, request: Request, query: dict[str, list[str]], body: Any) -> Response:
        method, path = request.method, request.url.path
        injected = self._injected(method, path, after_handling=False)
        if injected is not None:
            return injected
        presented = request.headers.get("authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {self.token}".encode()):
            return _error(ApiError("unauthorized", "unable to authenticate"))
        if body is _INVALID_JSON:
            return _error(ApiError("json_error", "invalid JSON in the request body"))
        for route_method, pattern, handler in _ROUTES:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                try:
                    status, payload = handler(
                        self.project, [int(g) for g in match.groups()], query, body or {}
                    )
                except ApiError as error:
                    return _error(error)
                break
        else:
            return _error(ApiError("not_found", f"no such endpoint: {method} {path}"))
        injected = self._injected(method, path, after_handling=True)
        if injected is not None:
            return injected
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status_code=status)

    async def _dispatch(self, request: Request) -> Response:
        arrived = time.monotonic()
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = _INVALID_JSON
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        with self.lock:
            response = self._answer(request, query, body)
            logged_body = None if body is _INVALID_JSON else body
            record = RecordedRequest(
                request.method, request.url.path, query, logged_body, response.status_code, arrived
            )
            self.requests.append(record)
        return response

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)])


_INVALID_JSON = object()


@contextmanager
def serve_fake_hetzner(token: str) -> Iterator[FakeHetzner]:
    """The fake on a real TCP port; ``fake.url`` is its API endpoint."""
    fake = FakeHetzner(token)

    async def build() -> Starlette:
        return fake.app()

    served = ServedApp(build).start()
    fake.url = f"{served.url}/v1"
    try:
        yield fake
    finally:
        served.stop()
