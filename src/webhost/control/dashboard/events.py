"""Server-sent events that follow a deployment while it provisions.

The stream polls the database (the worker that provisions may run in another process, so there
is nothing in memory to subscribe to) and emits a ``status`` event, carrying the rendered status
fragment, whenever the deployment changes. Once a final state has been sent it emits ``done``,
which tells the htmx SSE extension to close the connection instead of reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

from fastapi import Request

from webhost.control.accounts import service as accounts
from webhost.control.dashboard.views import FINAL_STATUSES, deployment_state
from webhost.control.deployments.schemas import DeploymentOut
from webhost.errors import NotFound, Unauthorized
from webhost.platform import Platform

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# a bounded stream re-authenticates when the browser reconnects, and never outlives a restart
STREAM_SECONDS = 300.0
RECONNECT_MILLISECONDS = 2000


def sse_event(event: str, data: str) -> str:
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def deployment_events(
    request: Request,
    platform: Platform,
    token: str,
    deployment_id: uuid.UUID,
    render: Callable[[DeploymentOut], str],
) -> AsyncIterator[str]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    last: DeploymentOut | None = None
    started = last_write = time.monotonic()
    while time.monotonic() - started < STREAM_SECONDS:
        if platform.stopping.is_set() or await request.is_disconnected():
            return  # the browser reconnects (after `retry`) to whichever server is up
        state = await _current_state(platform, token, deployment_id)
        if state is None:
            yield sse_event("done", "gone")
            return
        if state != last:
            yield sse_event("status", render(state))
            last, last_write = state, time.monotonic()
        if state.status in FINAL_STATUSES:
            yield sse_event("done", state.status.value)
            return
        if time.monotonic() - last_write >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_write = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(platform.stopping.wait(), POLL_SECONDS)


async def _current_state(
    platform: Platform, token: str, deployment_id: uuid.UUID
) -> DeploymentOut | None:
    """The deployment as its viewer may see it now; None once the session or access is gone."""
    async with platform.sessions() as session:
        try:
            account = await accounts.authenticate_session(session, token)
            return await deployment_state(session, platform, account, deployment_id)
        except (Unauthorized, NotFound):
            return None
