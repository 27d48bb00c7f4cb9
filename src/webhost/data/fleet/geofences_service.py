"""Geofence rules: a valid polygon or circle, its bounds, and the shape as containment sees it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import geofences_repository as repository
from webhost.data.fleet.geofence_schemas import BoundsOut, GeofenceIn, GeofenceOut, GeofencePatch
from webhost.data.fleet.geofences_repository import ShapeRow
from webhost.data.fleet.geometry import Bounds, Geofence, circle_bounds, polygon_bounds
from webhost.data.fleet.polygons import lon_lat, normalize_polygon
from webhost.data.fleet.query_tables import FleetTables
from webhost.errors import InvalidInput, NotFound
from webhost.validation import check_json


def _polygon_shape(raw: list[Any]) -> ShapeRow:
    vertices = normalize_polygon(raw)
    return ShapeRow("polygon", vertices, None, None, polygon_bounds(vertices))


def _circle_shape(raw_center: list[Any], radius_m: float) -> ShapeRow:
    center = lon_lat(raw_center, "center")
    return ShapeRow("circle", None, center, radius_m, circle_bounds(center, radius_m))


def _new_shape(body: GeofenceIn) -> ShapeRow:
    circle = body.center is not None or body.radius_m is not None
    if body.polygon is not None and circle:
        raise InvalidInput("give either polygon, or center and radius_m, not both")
    if body.polygon is not None:
        return _polygon_shape(body.polygon)
    if body.center is None or body.radius_m is None:
        raise InvalidInput("give a polygon, or a circle's center and radius_m")
    return _circle_shape(body.center, body.radius_m)


def _stored_shape(row: dict[str, Any]) -> ShapeRow:
    low, high = row["bounds"][1], row["bounds"][0]
    bounds = Bounds(low[0], low[1], high[0], high[1])
    polygon = tuple((x, y) for x, y in row["area"]) if row["area"] is not None else None
    center = (row["center"][0], row["center"][1]) if row["center"] is not None else None
    return ShapeRow(row["shape"], polygon, center, row["radius_m"], bounds)


def _out(row: dict[str, Any]) -> GeofenceOut:
    shape = _stored_shape(row)
    bounds = shape.bounds
    return GeofenceOut(
        id=row["id"],
        name=row["name"],
        shape=shape.shape,
        polygon=list(shape.polygon) if shape.polygon else None,
        center=shape.center,
        radius_m=shape.radius_m,
        bounds=BoundsOut(
            min_lon=bounds.min_lon,
            min_lat=bounds.min_lat,
            max_lon=bounds.max_lon,
            max_lat=bounds.max_lat,
        ),
        metadata=row["metadata"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def containment_shape(geofence_id: int, row: dict[str, Any]) -> Geofence:
    """The stored geofence as ``geometry.geofences_containing`` takes it."""
    shape = _stored_shape(row)
    if shape.polygon is not None:
        return Geofence.of_polygon(geofence_id, shape.polygon)
    assert shape.center is not None
    assert shape.radius_m is not None
    return Geofence.of_circle(geofence_id, shape.center, shape.radius_m)


async def create(connection: AsyncConnection, tables: FleetTables, body: GeofenceIn) -> GeofenceOut:
    check_json(body.metadata, what="metadata")
    shape = _new_shape(body)
    return _out(await repository.insert(connection, tables, body.name, shape, body.metadata))


async def require(
    connection: AsyncConnection, tables: FleetTables, geofence: int
) -> dict[str, Any]:
    row = await repository.get(connection, tables, geofence)
    if row is None:
        raise NotFound(f"no geofence {geofence}")
    return row


async def get(connection: AsyncConnection, tables: FleetTables, geofence: int) -> GeofenceOut:
    return _out(await require(connection, tables, geofence))


async def list_page(
    connection: AsyncConnection, tables: FleetTables, limit: int, offset: int
) -> list[GeofenceOut]:
    return [_out(row) for row in await repository.list_page(connection, tables, limit, offset)]


async def patch(
    connection: AsyncConnection, tables: FleetTables, geofence: int, body: GeofencePatch
) -> GeofenceOut:
    if body.metadata is not None:
        check_json(body.metadata, what="metadata")
    row = await repository.get(connection, tables, geofence, for_update=True)
    if row is None:
        raise NotFound(f"no geofence {geofence}")
    shape = _stored_shape(row)
    circle = body.center is not None or body.radius_m is not None
    if body.polygon is not None and circle:
        raise InvalidInput("give either polygon, or center and radius_m, not both")
    if body.polygon is not None:
        shape = _polygon_shape(body.polygon)
    elif circle:
        center: list[Any] | None = body.center
        if center is None and shape.center is not None:
            center = list(shape.center)
        radius_m = body.radius_m if body.radius_m is not None else shape.radius_m
        if center is None or radius_m is None:
            raise InvalidInput("a polygon becomes a circle with both center and radius_m")
        shape = _circle_shape(center, radius_m)
    name = body.name if body.name is not None else row["name"]
    metadata = body.metadata if body.metadata is not None else row["metadata"]
    return _out(await repository.update(connection, tables, geofence, name, shape, metadata))


async def delete(connection: AsyncConnection, tables: FleetTables, geofence: int) -> None:
    if not await repository.delete(connection, tables, geofence):
        raise NotFound(f"no geofence {geofence}")
