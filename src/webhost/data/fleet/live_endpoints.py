"""``/v1/fleet/live``: a WebSocket that streams a tenant's positions and events as they land."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from webhost.data.plane import DataPlane
from webhost.data.tenancy.dependencies import authenticate_socket
from webhost.data.tenancy.disconnects import Disconnect
from webhost.http.websocket import CLOSE_BAD_MESSAGE, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])

MAX_FOLLOWED_VEHICLES = 1000
_CLOSES = {
    "slow": (CLOSE_TRY_AGAIN_LATER, "too slow: messages were not read; reconnect"),
    "revoked": (CLOSE_UNAUTHORIZED, "the API key was revoked"),
    "suspended": (Disconnect.SUSPENDED.code, Disconnect.SUSPENDED.reason),
    "moving": (Disconnect.MOVING.code, Disconnect.MOVING.reason),
}


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    """Streams ``{"type": "positions", "positions": [...]}`` and ``{"type": "event", ...}``
    frames; ``?vehicles=a,b`` follows only those identifiers. Client frames are ignored."""
    plane: DataPlane = websocket.app.state.plane
    caller = await authenticate_socket(websocket)
    if caller is None:
        return
    wanted = websocket.query_params.get("vehicles")
    vehicles = frozenset(v for v in wanted.split(",") if v) if wanted else None
    await websocket.accept()
    if vehicles is not None and (
        len(vehicles) > MAX_FOLLOWED_VEHICLES or any("\x00" in v for v in vehicles)
    ):
        await websocket.close(CLOSE_BAD_MESSAGE, f"follow at most {MAX_FOLLOWED_VEHICLES}")
        return
    with plane.fleet_hub.subscribe(caller.tenant.id, caller.key_prefix, vehicles) as subscriber:
        reader = asyncio.create_task(_drain_client(websocket))
        try:
            while True:
                take = asyncio.create_task(subscriber.queue.get())
                woken = asyncio.create_task(subscriber.wake.wait())
                done, _pending = await asyncio.wait(
                    {take, woken, reader}, return_when=asyncio.FIRST_COMPLETED
                )
                for task in (take, woken):
                    if task not in done:
                        task.cancel()
                if reader in done:
                    return
                if subscriber.dropped is not None:
                    code, reason = _CLOSES[subscriber.dropped]
                    await websocket.close(code, reason)
                    return
                await websocket.send_json(take.result())
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await reader


async def _drain_client(websocket: WebSocket) -> None:
    """Reads until the client goes; what it sends is ignored."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
