"""Routes of fleet reads: latest positions, a vehicle's track, and its trip and stop reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import track_repository
from webhost.data.fleet.query_schemas import (
    DEFAULT_TRACK_POINTS,
    MAX_TRACK_POINTS,
    MAX_WINDOW,
    FromParam,
    LatestOut,
    Limit,
    Offset,
    ToParam,
    TrackOut,
    check_identifier,
    time_window,
)
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.reports import (
    KNOT_KMH,
    Analysis,
    ReportOptions,
    Stop,
    Summary,
    TrackAnalyser,
    Trip,
)
from webhost.data.plane import Caller
from webhost.data.tenancy.dependencies import CallerDep, TenantConnectionDep
from webhost.errors import InvalidInput

router = APIRouter(prefix="/v1/fleet", tags=["fleet"])

MAX_REPORT_POINTS = 1_000_000
_WINDOW_SECONDS = MAX_WINDOW.total_seconds()


def rfc3339(moment: datetime) -> str:
    """How the API writes a time (pydantic's way): UTC, ``Z``, microseconds when not zero."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@router.get("/latest", response_model=list[LatestOut], summary="Every vehicle's latest position")
async def latest(
    caller: CallerDep, connection: TenantConnectionDep, limit: Limit = 100, offset: Offset = 0
) -> list[LatestOut]:
    return await track_repository.latest_positions(
        connection, FleetTables(caller.tenant), limit, offset
    )


@router.get(
    "/vehicles/{identifier}/track",
    response_model=TrackOut,
    response_class=Response,
    summary="A vehicle's positions over a time range, in device time order",
    description="`from` and `to` (RFC 3339, both included) default to the last 24 hours and "
    f"span at most {MAX_WINDOW.days} days. Without `points`, the first `limit` points "
    f"(default {DEFAULT_TRACK_POINTS}, at most {MAX_TRACK_POINTS}); `truncated` says more "
    "remain (continue from the last point's time). With `points`, at most that many points "
    "over the whole range: the first and the last, and between them one per equal time bucket, "
    "the one that keeps the shape best (the largest triangle with the neighbouring buckets' "
    "mean positions, as in LTTB).",
)
async def track(
    identifier: str,
    caller: CallerDep,
    connection: TenantConnectionDep,
    from_: FromParam = None,
    to: ToParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TRACK_POINTS)] = DEFAULT_TRACK_POINTS,
    points: Annotated[int | None, Query(ge=2, le=MAX_TRACK_POINTS)] = None,
) -> Response:
    window = time_window(from_, to)
    tables = FleetTables(caller.tenant)
    vehicle = await track_repository.vehicle_id(connection, tables, check_identifier(identifier))
    wanted = points if points is not None else limit
    body, truncated = await track_repository.track_json(connection, tables, vehicle, window, wanted)
    downsampled = points is not None and truncated
    if downsampled:
        assert points is not None
        body = await track_repository.downsampled_track_json(
            connection, tables, vehicle, window, points
        )
        truncated = False
    head = json.dumps(
        {
            "identifier": identifier,
            "from": rfc3339(window.start),
            "to": rfc3339(window.end),
            "truncated": truncated,
            "downsampled": downsampled,
        }
    )
    return Response(f'{head[:-1]}, "points": {body}}}', media_type="application/json")


def report_options(
    min_stop_seconds: Annotated[
        float, Query(ge=0, le=_WINDOW_SECONDS, allow_inf_nan=False)
    ] = 300.0,
    speed_threshold_kmh: Annotated[float, Query(ge=0, le=2000, allow_inf_nan=False)] = KNOT_KMH,
    min_trip_meters: Annotated[float, Query(ge=0, le=1e8, allow_inf_nan=False)] = 500.0,
    min_trip_seconds: Annotated[
        float, Query(ge=0, le=_WINDOW_SECONDS, allow_inf_nan=False)
    ] = 300.0,
    max_gap_seconds: Annotated[
        float, Query(gt=0, le=_WINDOW_SECONDS, allow_inf_nan=False)
    ] = 3600.0,
) -> ReportOptions:
    return ReportOptions(
        min_stop_seconds=min_stop_seconds,
        speed_threshold_kmh=speed_threshold_kmh,
        min_trip_meters=min_trip_meters,
        min_trip_seconds=min_trip_seconds,
        max_gap_seconds=max_gap_seconds,
    )


ReportOptionsDep = Annotated[ReportOptions, Depends(report_options)]
_REPORT_RULES = (
    "A point moves when its speed (or, without one, the speed implied by the previous point) "
    "is above `speed_threshold_kmh`. Moving points become a trip once they last "
    "`min_trip_seconds` or cover `min_trip_meters`; stationary points become a stop once they "
    "last `min_stop_seconds`; no data for `max_gap_seconds` ends a trip. Distances in metres, "
    f"speeds in km/h, durations in seconds; at most {MAX_REPORT_POINTS:,} points in the range."
)


async def _analyse(
    connection: AsyncConnection,
    caller: Caller,
    identifier: str,
    from_: str | None,
    to: str | None,
    options: ReportOptions,
) -> Analysis:
    window = time_window(from_, to)
    tables = FleetTables(caller.tenant)
    vehicle = await track_repository.vehicle_id(connection, tables, check_identifier(identifier))
    analyser = TrackAnalyser(options)
    count = 0
    async for point in track_repository.stream_track(connection, tables, vehicle, window):
        count += 1
        if count > MAX_REPORT_POINTS:
            raise InvalidInput(
                f"the range holds more than {MAX_REPORT_POINTS:,} points: narrow from and to"
            )
        analyser.add(point)
    return analyser.finish()


@router.get(
    "/vehicles/{identifier}/reports/trips",
    response_model=list[Trip],
    summary="A vehicle's trips over a time range",
    description=_REPORT_RULES,
)
async def trips_report(
    identifier: str,
    caller: CallerDep,
    connection: TenantConnectionDep,
    options: ReportOptionsDep,
    from_: FromParam = None,
    to: ToParam = None,
) -> list[Trip]:
    return (await _analyse(connection, caller, identifier, from_, to, options)).trips


@router.get(
    "/vehicles/{identifier}/reports/stops",
    response_model=list[Stop],
    summary="A vehicle's stops over a time range",
    description=_REPORT_RULES,
)
async def stops_report(
    identifier: str,
    caller: CallerDep,
    connection: TenantConnectionDep,
    options: ReportOptionsDep,
    from_: FromParam = None,
    to: ToParam = None,
) -> list[Stop]:
    return (await _analyse(connection, caller, identifier, from_, to, options)).stops


@router.get(
    "/vehicles/{identifier}/reports/summary",
    response_model=Summary,
    summary="Distance, time and speeds of a vehicle over a time range",
    description=_REPORT_RULES + " `moving_s` is the time spent in trips, `average_speed_kmh` "
    "the trips' distance over that time.",
)
async def summary_report(
    identifier: str,
    caller: CallerDep,
    connection: TenantConnectionDep,
    options: ReportOptionsDep,
    from_: FromParam = None,
    to: ToParam = None,
) -> Summary:
    return (await _analyse(connection, caller, identifier, from_, to, options)).summary
