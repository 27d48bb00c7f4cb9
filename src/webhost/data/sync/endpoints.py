"""Routes of record sync: ``/v1/sync`` over HTTP, and the live WebSocket at the same path."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket

from webhost.data.plane import DataPlane
from webhost.data.sync import service
from webhost.data.sync.live import LiveSession
from webhost.data.sync.schemas import PullBody, PushBody
from webhost.data.tenancy.dependencies import (
    CallerDep,
    CallerReleasedDep,
    PlaneDep,
    TenantConnectionDep,
    authenticate_socket,
)
from webhost.http.json_body import read_json_object
from webhost.http.websocket import direct_socket

router = APIRouter(prefix="/v1/sync", tags=["sync"])


def _json(body: str) -> Response:
    return Response(content=body, media_type="application/json")


def _body_of(model: type[PushBody | PullBody]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.get("", summary="The tenant's sync position and the protocol's limits")
async def sync_info(
    plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> dict[str, Any]:
    return await service.info(connection, plane, caller.tenant)


@router.post(
    "/push",
    summary="Apply client transactions (idempotent by txid)",
    openapi_extra=_body_of(PushBody),
)
async def push(request: Request, plane: PlaneDep, caller: CallerReleasedDep) -> Response:
    body = await read_json_object(request, check_values=False)
    return _json(await service.push(plane, caller.tenant, body))


@router.post(
    "/pull",
    summary="The changes of each scope since its cursor, in pages",
    openapi_extra=_body_of(PullBody),
)
async def pull(
    request: Request, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    body = await read_json_object(request)
    return _json(await service.pull(connection, plane, caller.tenant, body))


@router.websocket("")
async def live(websocket: WebSocket) -> None:
    """Push, pull and subscribe over one socket; see docs/sync-protocol.md."""
    plane: DataPlane = websocket.app.state.plane
    caller = await authenticate_socket(websocket)
    if caller is None:
        return
    socket = direct_socket(websocket.scope)
    socket.set_max_message_size(plane.max_body_bytes)
    await LiveSession(websocket, socket, plane, caller).run()
