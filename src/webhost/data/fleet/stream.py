"""The position stream (``/v1/fleet/stream``): batches over one WebSocket, each acknowledged.

A client sends JSON text frames ``{"id": <its batch id>, "points": [...]}`` (points as in
``POST /v1/fleet/positions``); each is stored through the one write path and answered, in
order, with ``{"type": "ack", "id", "accepted", "duplicates", "rejected"}`` once its transaction
has committed. A frame that is not such a batch gets ``{"type": "error", "id"?, "error"}`` and
the socket stays open; a batch refused by the point rate gets the ``rate_limited`` error with
``retry_after`` (seconds). A frame over the batch size limit closes the socket with 4413, a
revoked key with 4401.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket

from webhost.data.fleet.batches import candidates, check_count
from webhost.data.tenancy.disconnects import Disconnect
from webhost.errors import BadRequest, InvalidInput, RetryLater, WebHostError
from webhost.http.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_TOO_LARGE,
    CLOSE_TRY_AGAIN_LATER,
    DirectSocket,
    text_frame,
)
from webhost.validation import MAX_JSON_DEPTH, text_problem

if TYPE_CHECKING:
    from webhost.data.plane import Caller, DataPlane

# unsent answers a client may leave unread before it is closed (1013)
MAX_UNREAD_BYTES = 8 * 1024 * 1024


class PositionStream:
    def __init__(
        self, websocket: WebSocket, socket: DirectSocket, plane: DataPlane, caller: Caller
    ) -> None:
        self.websocket = websocket
        self.socket = socket
        self.plane = plane
        self.caller = caller
        self.key_prefix = caller.key_prefix
        self._closed = False

    async def run(self) -> None:
        await self.websocket.accept()
        self.plane.fleet_streams.join(self)
        try:
            while not self._closed:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is None:
                    self._error(None, BadRequest("send batches as JSON text frames"))
                    continue
                await self._handle(message["text"])
        finally:
            self._closed = True
            self.plane.fleet_streams.leave(self)

    async def _handle(self, text: str) -> None:
        limit = self.plane.fleet.max_batch_bytes
        if (len(text) if text.isascii() else len(text.encode())) > limit:
            self.close(CLOSE_TOO_LARGE, f"a batch may take at most {limit} bytes")
            return
        if self.socket.buffered > MAX_UNREAD_BYTES:
            self.close(CLOSE_TRY_AGAIN_LATER, "not reading its acknowledgements")
            return
        batch_id: Any = None
        try:
            frame = _read_frame(text)
            batch_id = _batch_id(frame)
            points = _points(frame)
            result = await self.plane.position_ingest.ingest(self.caller, candidates(points))
        except RetryLater as refused:
            self._error(batch_id, refused, retry_after=refused.retry_after_seconds)
        except WebHostError as error:  # storage unavailable included: busy, send it again
            self._error(batch_id, error)
        else:
            self._send({"type": "ack", "id": batch_id, **result.to_json()})

    def _error(self, batch_id: Any, error: WebHostError, **extra: Any) -> None:
        self._send({"type": "error", "id": batch_id, **error.to_body(), **extra})

    def _send(self, message: dict[str, Any]) -> None:
        if not self._closed:
            self.socket.write(text_frame(json.dumps(message)))

    def close(self, code: int, reason: str) -> None:
        self._closed = True
        self.socket.close(code, reason)


def _read_frame(text: str) -> dict[str, Any]:
    try:
        frame = json.loads(text)
    except RecursionError:
        raise InvalidInput(
            f"the frame nests objects and arrays too deeply (at most {MAX_JSON_DEPTH} levels)"
        ) from None
    except ValueError as exc:
        raise BadRequest(f"the frame is not valid JSON: {exc}") from None
    if not isinstance(frame, dict):
        raise BadRequest('a frame is a JSON object: {"id": ..., "points": [...]}')
    return frame


def _batch_id(frame: dict[str, Any]) -> str | int | None:
    batch_id = frame.get("id")
    if isinstance(batch_id, bool) or not isinstance(batch_id, str | int | None):
        raise InvalidInput("id must be text or a number")
    if isinstance(batch_id, str) and (len(batch_id) > 200 or text_problem(batch_id)):
        raise InvalidInput("id must be text of at most 200 characters without NUL")
    return batch_id


def _points(frame: dict[str, Any]) -> list[Any]:
    unknown = sorted(set(frame) - {"id", "points"})
    if unknown:
        raise InvalidInput(f'unknown field {json.dumps(unknown[0])}; a frame has "id" and "points"')
    points = frame.get("points")
    if not isinstance(points, list):
        raise InvalidInput('"points" must be an array of points')
    check_count(len(points))
    return points


class PositionStreams:
    """The plane's open position streams, so revoked keys can be cut off at once."""

    def __init__(self) -> None:
        self._streams: dict[PositionStream, None] = {}

    def join(self, stream: PositionStream) -> None:
        self._streams[stream] = None

    def leave(self, stream: PositionStream) -> None:
        self._streams.pop(stream, None)

    def connected_key_prefixes(self) -> set[str]:
        return {stream.key_prefix for stream in self._streams}

    def disconnect_key(self, prefix: str, why: Disconnect = Disconnect.REVOKED) -> None:
        for stream in list(self._streams):
            if stream.key_prefix == prefix:
                stream.close(why.code, why.reason)

    def close(self) -> None:
        for stream in list(self._streams):
            stream.close(CLOSE_GOING_AWAY, "server shutting down")
