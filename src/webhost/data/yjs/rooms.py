"""Live Yjs rooms of one data plane (placeholder until the room implementation lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from webhost.data.plane import Caller


class RoomRegistry:
    def __init__(self, engine: AsyncEngine, *, compact_after: int) -> None:
        self.engine = engine
        self.compact_after = compact_after

    async def serve(self, websocket: WebSocket, caller: Caller, document: str) -> None:
        raise NotImplementedError

    async def disconnect_key(self, prefix: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None
