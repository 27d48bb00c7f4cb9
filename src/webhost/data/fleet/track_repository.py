"""All SQL of latest positions and tracks, inside the caller's tenant transaction.

A track can hold 100,000 points: PostgreSQL writes its JSON, so the plane holds one string
rather than a row object per point. Reports stream the points through a server-side cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.query_schemas import LatestOut, TimeWindow
from webhost.data.fleet.query_tables import FleetTables
from webhost.data.fleet.reports import TrackPoint
from webhost.data.fleet.spatial_sql import snapped_sql
from webhost.errors import NotFound


def rfc3339_sql(column: str) -> str:
    """A timestamptz as the API writes times: UTC, ``Z``, microseconds only when not zero."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"CAST(extract(microseconds FROM {utc}) AS bigint) % 1000000 = 0 THEN '' "
        f"ELSE to_char({utc}, '.US') END || 'Z'"
    )


def _point_json(alias: str) -> str:
    return (
        f"json_build_object('device_time', {rfc3339_sql(alias + '.device_time')}, "
        f"'latitude', {alias}.latitude, 'longitude', {alias}.longitude, "
        f"'speed', {alias}.speed, 'heading', {alias}.heading, 'altitude', {alias}.altitude, "
        f"'accuracy', {alias}.accuracy, 'battery', {alias}.battery, "
        f"'attributes', {alias}.attributes)"
    )


_TRACK_COLUMNS = (
    "device_time, latitude, longitude, speed, heading, altitude, accuracy, battery, attributes"
)


async def vehicle_id(connection: AsyncConnection, tables: FleetTables, identifier: str) -> int:
    found = await connection.execute(
        text(f"SELECT id FROM {tables.vehicles} WHERE identifier = :identifier"),
        {"identifier": identifier},
    )
    vehicle = found.scalar()
    if vehicle is None:
        raise NotFound(f"no vehicle {identifier!r}")
    return int(vehicle)


async def latest_positions(
    connection: AsyncConnection, tables: FleetTables, limit: int, offset: int
) -> list[LatestOut]:
    rows = await connection.execute(
        text(
            "SELECT v.identifier, v.name, l.device_time, l.server_time, l.latitude, "
            "l.longitude, l.speed, l.heading, l.altitude, l.accuracy, l.battery, l.attributes, "
            f"l.geofences FROM {tables.latest} l JOIN {tables.vehicles} v ON v.id = l.vehicle_id "
            "ORDER BY v.identifier LIMIT :limit OFFSET :offset"
        ),
        {"limit": limit, "offset": offset},
    )
    return [LatestOut.model_validate(dict(row._mapping)) for row in rows]


async def track_json(
    connection: AsyncConnection,
    tables: FleetTables,
    vehicle: int,
    window: TimeWindow,
    limit: int,
) -> tuple[str, bool]:
    """The first ``limit`` points of the window as a JSON array, and whether more remain."""
    row = (
        await connection.execute(
            text(
                f"SELECT coalesce(json_agg({_point_json('t')} ORDER BY t.device_time) "
                "FILTER (WHERE t.n <= :limit), '[]')::text, count(*) > :limit FROM ("
                f"SELECT {_TRACK_COLUMNS}, row_number() OVER (ORDER BY device_time) AS n "
                f"FROM {tables.positions} WHERE vehicle_id = :vehicle "
                "AND device_time BETWEEN :start AND :end "
                "ORDER BY device_time LIMIT :limit + 1) t"
            ),
            {"vehicle": vehicle, "start": window.start, "end": window.end, "limit": limit},
        )
    ).one()
    return str(row[0]), bool(row[1])


async def downsampled_track_json(
    connection: AsyncConnection,
    tables: FleetTables,
    vehicle: int,
    window: TimeWindow,
    points: int,
) -> str:
    """At most ``points`` points of the window as a JSON array, for a track that holds more.

    The first and last points stay; the time between them is cut into ``points - 2`` equal
    buckets, and each bucket that holds points keeps one: the point that makes the largest
    triangle with the mean positions of the neighbouring buckets (LTTB's choice, with the
    previous bucket's mean standing in for the point chosen there, so that it is one
    statement). Everything happens in PostgreSQL, whatever the number of points.
    """
    row = await connection.execute(
        text(
            "WITH track AS ("
            f"SELECT {_TRACK_COLUMNS}, {snapped_sql('longitude')} AS x, "
            f"{snapped_sql('latitude')} AS y FROM {tables.positions} "
            "WHERE vehicle_id = :vehicle AND device_time BETWEEN :start AND :end), "
            "edges AS (SELECT min(device_time) AS first, max(device_time) AS last, "
            "CAST(:buckets AS integer) AS buckets FROM track), "
            "bucketed AS (SELECT t.*, CASE WHEN t.device_time = e.first THEN -1 "
            "WHEN t.device_time = e.last THEN e.buckets ELSE least(e.buckets - 1, "
            "CAST(floor(extract(epoch FROM t.device_time - e.first) "
            "/ extract(epoch FROM e.last - e.first) * e.buckets) AS integer)) END AS bucket "
            "FROM track t CROSS JOIN edges e), "
            "means AS (SELECT bucket, avg(x) AS x, avg(y) AS y FROM bucketed GROUP BY bucket), "
            "around AS (SELECT bucket, lag(x) OVER w AS x0, lag(y) OVER w AS y0, "
            "lead(x) OVER w AS x1, lead(y) OVER w AS y1 FROM means "
            "WINDOW w AS (ORDER BY bucket)), "
            "chosen AS (SELECT DISTINCT ON (b.bucket) b.* FROM bucketed b JOIN around a "
            "USING (bucket) ORDER BY b.bucket, abs((b.x - a.x0) * (a.y1 - a.y0) "
            "- (b.y - a.y0) * (a.x1 - a.x0)) DESC NULLS LAST, b.device_time) "
            f"SELECT coalesce(json_agg({_point_json('c')} ORDER BY c.device_time), '[]')::text "
            "FROM chosen c"
        ),
        {
            "vehicle": vehicle,
            "start": window.start,
            "end": window.end,
            "buckets": points - 2,
        },
    )
    return str(row.scalar())


async def stream_track(
    connection: AsyncConnection,
    tables: FleetTables,
    vehicle: int,
    window: TimeWindow,
) -> AsyncIterator[TrackPoint]:
    """The window's points in time order, fetched in batches through a cursor."""
    result = await connection.stream(
        text(
            f"SELECT device_time, latitude, longitude, speed FROM {tables.positions} "
            "WHERE vehicle_id = :vehicle AND device_time BETWEEN :start AND :end "
            "ORDER BY device_time"
        ),
        {"vehicle": vehicle, "start": window.start, "end": window.end},
    )
    async for rows in result.partitions(5_000):
        for time, latitude, longitude, speed in rows:
            yield TrackPoint(time, latitude, longitude, speed)
