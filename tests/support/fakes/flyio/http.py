"""The HTTP face of the fake Fly.io Machines API: the paths, methods, JSON envelopes, status
codes and ``{"error": ...}`` bodies of the calls our client makes, behind Fly's token check,
with injected faults answered first (or, with ``after_applying``, after doing the work)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.support.fakes.flyio import certificates, compute
from tests.support.fakes.flyio.records import Fault, FlyError, LoggedRequest
from tests.support.fakes.flyio.state import FakeFly
from tests.support.servers import ServedApp

Handler = Callable[[Request, Any], Awaitable[Response]]
LONGEST_WAIT_SECONDS = 60


def _fault_response(fault: Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return JSONResponse(fault.body(), status_code=fault.status, headers=headers)


def fake_fly_app(fly: FakeFly) -> Starlette:
    def answer(
        operation: Callable[..., Any], *, status: int = 200, reads_body: bool = False
    ) -> Handler:
        """A route whose work is one call on the state, holding its lock."""

        async def handler(request: Request, body: Any) -> Response:
            if reads_body and not isinstance(body, dict):
                raise FlyError(400, "the request body must be a JSON object")
            arguments = [*request.path_params.values(), *([body] if reads_body else [])]
            with fly.lock:
                result = operation(fly, *arguments)
            if result is None:
                return Response(status_code=status)
            return JSONResponse(result, status_code=status)

        return handler

    async def destroy_machine(request: Request, body: Any) -> Response:
        force = request.query_params.get("force", "false").lower() == "true"
        with fly.lock:
            result = compute.destroy_machine(
                fly, request.path_params["app"], request.path_params["machine"], force
            )
        return JSONResponse(result)

    async def wait_machine(request: Request, body: Any) -> Response:
        wanted = request.query_params.get("state", "started")
        try:
            timeout = int(request.query_params.get("timeout", str(LONGEST_WAIT_SECONDS)))
        except ValueError:
            raise FlyError(400, "timeout must be a whole number of seconds") from None
        if not 1 <= timeout <= LONGEST_WAIT_SECONDS:
            raise FlyError(400, f"timeout must be between 1 and {LONGEST_WAIT_SECONDS} seconds")
        deadline = time.monotonic() + timeout
        while True:
            with fly.lock:
                state = compute.machine_state(fly, *request.path_params.values())
            if state == wanted:
                return JSONResponse({"ok": True, "state": state})
            if time.monotonic() >= deadline:
                raise FlyError(408, f"deadline_exceeded: machine did not reach {wanted} ({state})")
            await asyncio.sleep(0.02)

    def route(path: str, method: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            arrived = time.monotonic()
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            fault = fly.take_fault(method, request.url.path)
            if fault is not None and not fault.after_applying:
                response = _fault_response(fault)
            elif not fly.authorized(request.headers.get("authorization")):
                response = JSONResponse(
                    {"error": "Authenticate: token validation error"}, status_code=401
                )
            else:
                try:
                    response = await handler(request, body)
                except FlyError as error:
                    response = JSONResponse(error.body(), status_code=error.status)
                if fault is not None:
                    response = _fault_response(fault)
            query = dict(request.query_params)
            fly.record(
                LoggedRequest(method, request.url.path, query, response.status_code, arrived, body)
            )
            return response

        return Route(path, endpoint, methods=[method])

    app_path = "/v1/apps/{app}"
    machine_path = f"{app_path}/machines/{{machine}}"
    volume_path = f"{app_path}/volumes/{{volume}}"
    certificate_path = f"{app_path}/certificates/{{hostname}}"
    routes = [
        route(
            f"{app_path}/certificates/acme",
            "POST",
            answer(certificates.request_acme, status=201, reads_body=True),
        ),
        route(certificate_path, "GET", answer(certificates.show)),
        route(f"{certificate_path}/check", "POST", answer(certificates.check)),
        route(certificate_path, "DELETE", answer(certificates.delete, status=204)),
        route("/v1/apps", "POST", answer(FakeFly.create_app, status=201, reads_body=True)),
        route(app_path, "GET", answer(FakeFly.show_app)),
        route(app_path, "DELETE", answer(FakeFly.delete_app, status=202)),
        route(f"{app_path}/secrets", "POST", answer(FakeFly.update_secrets, reads_body=True)),
        route(f"{app_path}/ip_assignments", "GET", answer(FakeFly.list_ips)),
        route(f"{app_path}/ip_assignments", "POST", answer(FakeFly.assign_ip, reads_body=True)),
        route(
            f"{app_path}/ip_assignments/{{ip}}", "DELETE", answer(FakeFly.release_ip, status=204)
        ),
        route(f"{app_path}/volumes", "GET", answer(compute.list_volumes)),
        route(f"{app_path}/volumes", "POST", answer(compute.create_volume, reads_body=True)),
        route(volume_path, "DELETE", answer(compute.delete_volume)),
        route(f"{volume_path}/extend", "PUT", answer(compute.extend_volume, reads_body=True)),
        route(f"{app_path}/machines", "GET", answer(compute.list_machines)),
        route(f"{app_path}/machines", "POST", answer(compute.create_machine, reads_body=True)),
        route(machine_path, "GET", answer(compute.show_machine)),
        route(machine_path, "POST", answer(compute.update_machine, reads_body=True)),
        route(machine_path, "DELETE", destroy_machine),
        route(f"{machine_path}/start", "POST", answer(compute.start_machine)),
        route(f"{machine_path}/wait", "GET", wait_machine),
    ]
    return Starlette(routes=routes)


@contextmanager
def serve_fake_fly(*, token: str, org_slug: str, start_delay: float = 0.3) -> Iterator[FakeFly]:
    """The fake on a real TCP port (``fake.url``) for as long as the block runs."""
    fly = FakeFly(token=token, org_slug=org_slug, start_delay=start_delay)

    async def build() -> ASGIApp:
        return fake_fly_app(fly)

    server = ServedApp(build).start()
    fly.url = server.url
    try:
        yield fly
    finally:
        server.stop()
