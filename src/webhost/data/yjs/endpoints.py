"""The y-websocket endpoint: ``{sync_url}/yjs/{document}?token=<api key>``."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from webhost.data.plane import DataPlane
from webhost.data.yjs.naming import validate_document_name
from webhost.errors import InvalidInput, Unauthorized
from webhost.http.credentials import socket_api_key
from webhost.http.websocket import (
    CLOSE_BAD_MESSAGE,
    CLOSE_UNAUTHORIZED,
    deny_handshake,
    direct_socket,
)

router = APIRouter(tags=["yjs"])


@router.websocket("/yjs/{document:path}")
async def yjs_document(websocket: WebSocket, document: str) -> None:
    plane: DataPlane = websocket.app.state.plane
    raw_key = socket_api_key(
        websocket.query_params.get("token"), websocket.headers.get("authorization")
    )
    try:
        caller = await plane.authenticate(raw_key)
    except Unauthorized as exc:
        await deny_handshake(websocket, 401, CLOSE_UNAUTHORIZED, exc.message)
        return
    try:
        name = validate_document_name(document)
    except InvalidInput as exc:
        await deny_handshake(websocket, 400, CLOSE_BAD_MESSAGE, exc.message)
        return
    socket = direct_socket(websocket.scope)
    if socket is None:
        # rooms write frames straight to the transport; see webhost.http.server
        raise RuntimeError("the data plane must be served with DataPlaneWebSocketProtocol")
    socket.set_max_message_size(plane.rooms.max_message_bytes(caller))
    await plane.rooms.serve(websocket, socket, caller, name)
