"""``GET /v1/fleet/events``: the geofence and overspeed events ingestion made, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text

from webhost.data.fleet.query_schemas import (
    FromParam,
    Limit,
    Offset,
    ToParam,
    check_identifier,
    time_window,
)
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])

EventType = Literal["geofence_enter", "geofence_exit", "overspeed"]


class EventOut(BaseModel):
    id: int
    type: str
    identifier: str
    event_time: datetime
    geofence_id: int | None
    latitude: float
    longitude: float
    speed: float | None
    attributes: dict[str, Any]


@router.get("/events", response_model=list[EventOut], summary="Fleet events, newest first")
async def list_events(
    caller: CallerDep,
    connection: TenantConnectionDep,
    from_: FromParam = None,
    to: ToParam = None,
    vehicle: Annotated[str | None, Query(description="A vehicle's identifier")] = None,
    event_type: Annotated[EventType | None, Query(alias="type")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[EventOut]:
    """Events in a time range (default: the last 24 hours; at most 31 days)."""
    window = time_window(from_, to)
    if vehicle is not None:
        check_identifier(vehicle)
    tables = FleetTables(caller.tenant)
    rows = await connection.execute(
        text(
            "SELECT e.id, e.type, v.identifier, e.event_time, e.geofence_id, e.latitude, "
            f"e.longitude, e.speed, e.attributes FROM {tables.events} e "
            f"JOIN {tables.vehicles} v ON v.id = e.vehicle_id "
            "WHERE e.event_time BETWEEN :start AND :end "
            "AND (CAST(:vehicle AS text) IS NULL OR v.identifier = :vehicle) "
            "AND (CAST(:type AS text) IS NULL OR e.type = :type) "
            "ORDER BY e.event_time DESC, e.id DESC LIMIT :limit OFFSET :offset"
        ),
        {
            "start": window.start,
            "end": window.end,
            "vehicle": vehicle,
            "type": event_type,
            "limit": limit,
            "offset": offset,
        },
    )
    return [EventOut.model_validate(dict(row._mapping)) for row in rows]
