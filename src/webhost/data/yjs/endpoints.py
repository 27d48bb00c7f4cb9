"""The y-websocket endpoint: ``{sync_url}/yjs/{document}?token=<api key>``."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from webhost.data.plane import DataPlane
from webhost.data.tenancy.dependencies import authenticate_socket
from webhost.data.yjs.naming import validate_document_name
from webhost.errors import InvalidInput
from webhost.http.websocket import CLOSE_BAD_MESSAGE, deny_handshake, direct_socket

router = APIRouter(tags=["yjs"])


@router.websocket("/yjs/{document:path}")
async def yjs_document(websocket: WebSocket, document: str) -> None:
    plane: DataPlane = websocket.app.state.plane
    caller = await authenticate_socket(websocket)
    if caller is None:
        return
    try:
        name = validate_document_name(document)
    except InvalidInput as exc:
        await deny_handshake(websocket, 400, CLOSE_BAD_MESSAGE, exc.message)
        return
    socket = direct_socket(websocket.scope)
    socket.set_max_message_size(plane.rooms.max_message_bytes(caller))
    await plane.rooms.serve(websocket, socket, caller, name)
