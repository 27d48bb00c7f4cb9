"""All SQL of geofences, inside the caller's tenant transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet.geometry import Bounds
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_tables import FleetTables

_COLUMNS = "id, name, shape, area, center, radius_m, bounds, metadata, created_at, updated_at"


@dataclass(frozen=True)
class ShapeRow:
    """What a geofence's row holds of its shape."""

    shape: str
    polygon: tuple[LonLat, ...] | None
    center: LonLat | None
    radius_m: float | None
    bounds: Bounds


def _polygon_text(vertices: Sequence[LonLat]) -> str:
    # repr keeps each float exact through PostgreSQL's float8 input
    return "(" + ",".join(f"({lon!r},{lat!r})" for lon, lat in vertices) + ")"


def _shape_params(shape: ShapeRow) -> dict[str, Any]:
    center = shape.center or (None, None)
    return {
        "shape": shape.shape,
        "area": _polygon_text(shape.polygon) if shape.polygon else None,
        "cx": center[0],
        "cy": center[1],
        "radius_m": shape.radius_m,
        "x1": shape.bounds.min_lon,
        "y1": shape.bounds.min_lat,
        "x2": shape.bounds.max_lon,
        "y2": shape.bounds.max_lat,
    }


_SHAPE_VALUES = (
    "CAST(:shape AS text), CAST(CAST(:area AS text) AS polygon), "
    "CASE WHEN CAST(:cx AS float8) IS NULL THEN NULL "
    "ELSE point(CAST(:cx AS float8), CAST(:cy AS float8)) END, CAST(:radius_m AS float8), "
    "box(point(CAST(:x1 AS float8), CAST(:y1 AS float8)), "
    "point(CAST(:x2 AS float8), CAST(:y2 AS float8)))"
)


async def insert(
    connection: AsyncConnection,
    tables: FleetTables,
    name: str,
    shape: ShapeRow,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    row = await connection.execute(
        text(
            f"INSERT INTO {tables.geofences} "
            "(name, shape, area, center, radius_m, bounds, metadata) "
            f"VALUES (:name, {_SHAPE_VALUES}, CAST(:metadata AS jsonb)) RETURNING {_COLUMNS}"
        ),
        {"name": name, "metadata": json.dumps(metadata), **_shape_params(shape)},
    )
    return dict(row.one()._mapping)


async def get(
    connection: AsyncConnection, tables: FleetTables, geofence: int, *, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM {tables.geofences} WHERE id = :id{lock}"),
        {"id": geofence},
    )
    found = row.one_or_none()
    return None if found is None else dict(found._mapping)


async def list_page(
    connection: AsyncConnection, tables: FleetTables, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM {tables.geofences} ORDER BY id LIMIT :limit OFFSET :offset"),
        {"limit": limit, "offset": offset},
    )
    return [dict(row._mapping) for row in rows]


async def update(
    connection: AsyncConnection,
    tables: FleetTables,
    geofence: int,
    name: str,
    shape: ShapeRow,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    row = await connection.execute(
        text(
            f"UPDATE {tables.geofences} SET (name, shape, area, center, radius_m, bounds, "
            f"metadata, updated_at) = (:name, {_SHAPE_VALUES}, CAST(:metadata AS jsonb), now()) "
            f"WHERE id = :id RETURNING {_COLUMNS}"
        ),
        {"id": geofence, "name": name, "metadata": json.dumps(metadata), **_shape_params(shape)},
    )
    return dict(row.one()._mapping)


async def delete(connection: AsyncConnection, tables: FleetTables, geofence: int) -> bool:
    deleted = await connection.execute(
        text(f"DELETE FROM {tables.geofences} WHERE id = :id RETURNING id"), {"id": geofence}
    )
    if deleted.one_or_none() is None:
        return False
    # a vehicle cannot stay inside a geofence that no longer exists
    await connection.execute(
        text(
            f"UPDATE {tables.latest} SET geofences = array_remove(geofences, CAST(:id AS bigint)) "
            "WHERE geofences @> ARRAY[CAST(:id AS bigint)]"
        ),
        {"id": geofence},
    )
    return True
