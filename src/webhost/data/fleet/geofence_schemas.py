"""Geofences over the API: a polygon or a circle, with a name and free metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict

from webhost.data.fleet.geometry import MAX_RADIUS_M
from webhost.data.fleet.polygons import MAX_VERTICES
from webhost.validation import StorableText

GeofenceName = Annotated[StorableText, Field(min_length=1, max_length=200)]
Radius = Annotated[
    float,
    Strict(),
    Field(gt=0, le=MAX_RADIUS_M, allow_inf_nan=False, description="Metres, up to 20,000 km."),
]
_POLYGON = (
    "[[lon, lat], ...]: at least 3 distinct vertices, at most "
    f"{MAX_VERTICES}, edges not crossing. Edges are straight lines in lon/lat (so a polygon "
    "cannot cross the antimeridian); the boundary belongs to the polygon."
)
_CENTER = "[lon, lat] of a circle; the circle holds the points at most radius_m from it."


class GeofenceIn(BaseModel):
    """A polygon (``polygon``) or a circle (``center`` and ``radius_m``)."""

    model_config = ConfigDict(extra="forbid")

    name: GeofenceName
    polygon: list[Any] | None = Field(
        default=None, max_length=MAX_VERTICES + 1, description=_POLYGON
    )
    center: list[Any] | None = Field(default=None, max_length=2, description=_CENTER)
    radius_m: Radius | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class GeofencePatch(BaseModel):
    """Fields to change. A polygon replaces the shape; ``center`` or ``radius_m`` make it a
    circle (the other taken from the current circle)."""

    model_config = ConfigDict(extra="forbid")

    name: GeofenceName | None = None
    polygon: list[Any] | None = Field(
        default=None, max_length=MAX_VERTICES + 1, description=_POLYGON
    )
    center: list[Any] | None = Field(default=None, max_length=2, description=_CENTER)
    radius_m: Radius | None = None
    metadata: dict[str, Any] | None = None


class BoundsOut(BaseModel):
    """A lon/lat box holding the shape (all longitudes for a circle across the antimeridian)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


class GeofenceOut(BaseModel):
    id: int
    name: str
    shape: str = Field(description="polygon or circle")
    polygon: list[tuple[float, float]] | None
    center: tuple[float, float] | None
    radius_m: float | None
    bounds: BoundsOut
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
