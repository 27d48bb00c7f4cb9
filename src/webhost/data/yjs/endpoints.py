"""The y-websocket endpoint: ``{sync_url}/yjs/{document}?token=<api key>``."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket
from starlette.responses import JSONResponse
from starlette.websockets import WebSocketState

from webhost.data.plane import DataPlane
from webhost.data.yjs.connection import CLOSE_BAD_MESSAGE, CLOSE_UNAUTHORIZED
from webhost.data.yjs.naming import validate_document_name
from webhost.errors import InvalidInput, Unauthorized, error_body
from webhost.http.credentials import bearer_token
from webhost.http.websocket import direct_socket

router = APIRouter(tags=["yjs"])


@router.websocket("/yjs/{document:path}")
async def yjs_document(websocket: WebSocket, document: str) -> None:
    plane: DataPlane = websocket.app.state.plane
    raw_key = websocket.query_params.get("token") or bearer_token(
        websocket.headers.get("authorization")
    )
    try:
        caller = await plane.authenticate(raw_key)
    except Unauthorized as exc:
        await _refuse(websocket, 401, CLOSE_UNAUTHORIZED, exc.message)
        return
    try:
        name = validate_document_name(document)
    except InvalidInput as exc:
        await _refuse(websocket, 400, CLOSE_BAD_MESSAGE, exc.message)
        return
    socket = direct_socket(websocket.scope)
    if socket is None:
        # rooms write frames straight to the transport; see webhost.http.server
        raise RuntimeError("the data plane must be served with DataPlaneWebSocketProtocol")
    socket.set_max_message_size(plane.rooms.max_message_bytes(caller))
    await plane.rooms.serve(websocket, socket, caller, name)


async def _refuse(websocket: WebSocket, status: int, close_code: int, reason: str) -> None:
    """Answer the handshake with an HTTP error when the server supports it, else close."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        code = "unauthorized" if status == 401 else "invalid_input"
        response = JSONResponse(error_body(code, reason), status_code=status)
        await websocket.send_denial_response(response)
        return
    if websocket.client_state == WebSocketState.CONNECTING:
        await websocket.accept()
    await websocket.close(code=close_code, reason=reason[:120])
