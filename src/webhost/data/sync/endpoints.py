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
)
from webhost.errors import Unauthorized
from webhost.http.credentials import socket_api_key
from webhost.http.json_body import read_json_object
from webhost.http.websocket import CLOSE_UNAUTHORIZED, deny_handshake, direct_socket

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
    raw_key = socket_api_key(
        websocket.query_params.get("token"), websocket.headers.get("authorization")
    )
    try:
        caller = await plane.authenticate(raw_key)
    except Unauthorized as exc:
        await deny_handshake(websocket, 401, CLOSE_UNAUTHORIZED, exc.message)
        return
    socket = direct_socket(websocket.scope)
    if socket is None:
        raise RuntimeError("the data plane must be served with DataPlaneWebSocketProtocol")
    socket.set_max_message_size(plane.max_body_bytes)
    await LiveSession(websocket, socket, plane, caller).run()
