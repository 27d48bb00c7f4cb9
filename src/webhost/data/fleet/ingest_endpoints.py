"""Routes that take positions: batches over HTTP, the position stream, and OsmAnd.

Every one accepts device keys (scope ``ingest``) as well as full keys, and every one stores
through the one write path (``DataPlane.position_ingest``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response, WebSocket

from webhost.data.fleet import osmand
from webhost.data.fleet.batches import candidates, read_batch
from webhost.data.fleet.ingest_schemas import OSMAND_PARAMETERS, POSITIONS_BODY, IngestAck
from webhost.data.fleet.points import PointRejected, Position
from webhost.data.fleet.stream import PositionStream
from webhost.data.plane import DataPlane
from webhost.data.tenancy.dependencies import IngestCallerReleasedDep, PlaneDep, authenticate_socket
from webhost.errors import BadRequest, VehicleLimitReached
from webhost.http.credentials import socket_api_key
from webhost.http.json_body import is_json_media_type
from webhost.http.websocket import direct_socket

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])


@router.post(
    "/positions",
    response_model=IngestAck,
    summary="Send a batch of positions (JSON array or NDJSON); device keys allowed",
    description="Each point is checked on its own: rejected points are listed with the reason, "
    "the others are stored; a point already stored (same vehicle and device time) counts as a "
    "duplicate. The answer comes once the batch is committed. Past the plan's GPS points per "
    "second the request gets 429 with Retry-After.",
    openapi_extra=POSITIONS_BODY,
)
async def send_positions(
    request: Request, plane: PlaneDep, caller: IngestCallerReleasedDep
) -> dict[str, Any]:
    items = read_batch(await request.body(), request.headers.get("content-type"))
    result = await plane.position_ingest.ingest(caller, candidates(items))
    return result.to_json()


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Batches of positions over one socket, each acknowledged once stored (see stream.py)."""
    plane: DataPlane = websocket.app.state.plane
    caller = await authenticate_socket(websocket, ingest=True)
    if caller is None:
        return
    socket = direct_socket(websocket.scope)
    # past the limit a batch gets 4413 with its reason; far past it the protocol closes (1009)
    socket.set_max_message_size(2 * plane.fleet.max_batch_bytes)
    await PositionStream(websocket, socket, plane, caller).run()


_OSMAND: dict[str, Any] = {
    "summary": "OsmAnd / Traccar Client: one position (query, form or JSON); device keys allowed",
    "description": "Answers 200 with an empty body once the position is stored (or was "
    "already), 400 for a position that cannot be stored.",
    "response_class": Response,
    "responses": {200: {"description": "Stored", "content": {}}},
    "openapi_extra": {"parameters": OSMAND_PARAMETERS},
}


@router.get("/osmand/{key}", **_OSMAND)
@router.post("/osmand/{key}", **_OSMAND)
async def osmand_with_key(key: str, request: Request, plane: PlaneDep) -> Response:
    """The API key in the path: the whole configuration a tracker app needs is one URL."""
    return await _osmand(plane, key, request)


@router.get("/osmand", **_OSMAND)
@router.post("/osmand", **_OSMAND)
async def osmand_with_token(request: Request, plane: PlaneDep) -> Response:
    """The API key as ``?token=`` (or the Authorization header)."""
    key = socket_api_key(request.query_params.get("token"), request.headers.get("authorization"))
    return await _osmand(plane, key, request)


async def _osmand(plane: DataPlane, key: str | None, request: Request) -> Response:
    caller = await plane.authenticate_sender(key)
    try:
        position = await _osmand_position(request, datetime.now(UTC))
    except PointRejected as rejected:
        raise BadRequest(rejected.reason) from None
    result = await plane.position_ingest.ingest(caller, [position])
    for rejection in result.rejected:
        if rejection.code == VehicleLimitReached.code:
            raise VehicleLimitReached(rejection.reason)
        raise BadRequest(rejection.reason)
    return Response(status_code=200)


async def _osmand_position(request: Request, now: datetime) -> Position:
    body = await request.body()
    if is_json_media_type(request.headers.get("content-type", "")):
        try:
            return osmand.from_json(json.loads(body), now)
        except (ValueError, RecursionError):
            raise BadRequest("request body is not valid JSON") from None
    parameters = [(n, v) for n, v in request.query_params.multi_items() if n != "token"]
    if body.strip():
        try:
            form = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("request body is not UTF-8 text") from None
        parameters += parse_qsl(form, keep_blank_values=True)
    if not parameters:
        raise BadRequest("send a position: id, lat, lon, timestamp, ... as parameters")
    return osmand.from_parameters(parameters, now)
