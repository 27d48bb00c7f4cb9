"""Request parameters and responses of the fleet queries: time windows, points, positions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from webhost.data.fleet.polygons import MAX_VERTICES
from webhost.errors import InvalidInput, NotFound
from webhost.validation import text_problem

MAX_WINDOW = timedelta(days=31)
DEFAULT_WINDOW = timedelta(hours=24)
MAX_POSITIONS = 10_000
DEFAULT_POSITIONS = 1_000
MAX_TRACK_POINTS = 100_000
DEFAULT_TRACK_POINTS = 10_000
MAX_NEAREST = 100
MAX_IDENTIFIER_LENGTH = 128

Latitude = Annotated[
    float, Query(ge=-90, le=90, allow_inf_nan=False, description="Degrees north, -90..90.")
]
Longitude = Annotated[
    float, Query(ge=-180, le=180, allow_inf_nan=False, description="Degrees east, -180..180.")
]
_TIME = "RFC 3339 time with a zone, e.g. 2024-05-01T12:00:00Z"
FromParam = Annotated[
    str | None, Query(alias="from", description=f"{_TIME}; included.", max_length=64)
]
ToParam = Annotated[str | None, Query(description=f"{_TIME}; included.", max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many (1..1000).")]
# ids are bigint identities: a larger number is a 422, not a database error
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
PositionsLimit = Annotated[int, Query(ge=1, le=MAX_POSITIONS)]


@dataclass(frozen=True)
class TimeWindow:
    """From and to, both included."""

    start: datetime
    end: datetime


def parse_time(raw: str, name: str) -> datetime:
    """An RFC 3339 time with a zone (``Z`` or an offset), as UTC."""
    problem = text_problem(raw)
    if problem is not None:
        raise InvalidInput(f"{name} {problem}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            f"{name} must be an RFC 3339 time with a zone, e.g. 2024-05-01T12:00:00Z"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInput(f"{name} is out of range") from exc


def time_window(start: str | None, end: str | None, *, now: datetime | None = None) -> TimeWindow:
    """``to`` defaults to now and ``from`` to 24 hours before ``to``; at most 31 days."""
    until = parse_time(end, "to") if end is not None else (now or datetime.now(UTC))
    if start is not None:
        since = parse_time(start, "from")
    else:
        try:
            since = until - DEFAULT_WINDOW
        except OverflowError as exc:
            raise InvalidInput("to is out of range") from exc
    if since > until:
        raise InvalidInput("from must not be after to")
    if until - since > MAX_WINDOW:
        raise InvalidInput(
            f"the time range spans more than {MAX_WINDOW.days} days: narrow from and to"
        )
    return TimeWindow(since, until)


def check_identifier(identifier: str) -> str:
    """A vehicle identifier from a URL; one that cannot exist is a 404, NUL a 422."""
    problem = text_problem(identifier)
    if problem is not None:
        raise InvalidInput(f"vehicle identifier {problem}")
    if not 1 <= len(identifier) <= MAX_IDENTIFIER_LENGTH:
        raise NotFound(f"no vehicle {identifier[:MAX_IDENTIFIER_LENGTH]!r}")
    return identifier


class PositionOut(BaseModel):
    """A position of a vehicle (speed km/h, heading degrees, altitude and accuracy metres,
    battery percent)."""

    identifier: str
    device_time: datetime
    server_time: datetime
    latitude: float
    longitude: float
    speed: float | None
    heading: float | None
    altitude: float | None
    accuracy: float | None
    battery: float | None
    attributes: Any = Field(description="What the device sent besides, as JSON.")


class LatestOut(PositionOut):
    name: str
    geofences: list[int] = Field(description="Geofences the vehicle is inside.")


class PositionsOut(BaseModel):
    positions: list[PositionOut] = Field(description="Ordered by device time, then vehicle.")
    truncated: bool = Field(description="More positions matched than the limit.")


class NearbyVehicleOut(BaseModel):
    identifier: str
    name: str
    distance_m: float = Field(description="Great-circle distance in metres.")
    latitude: float
    longitude: float
    device_time: datetime
    speed: float | None
    heading: float | None


class TrackPointOut(BaseModel):
    device_time: datetime
    latitude: float
    longitude: float
    speed: float | None
    heading: float | None
    altitude: float | None
    accuracy: float | None
    battery: float | None
    attributes: Any = Field(description="What the device sent besides, as JSON.")


class TrackOut(BaseModel):
    identifier: str
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    points: list[TrackPointOut]
    truncated: bool = Field(description="More points were in the range than the limit.")
    downsampled: bool


class WithinQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    polygon: list[Any] = Field(
        max_length=MAX_VERTICES + 1,
        description="[[lon, lat], ...]: at least 3 distinct vertices, at most "
        f"{MAX_VERTICES}, edges not crossing; edges are straight lines in lon/lat.",
    )
    from_: str | None = Field(default=None, alias="from", max_length=64)
    to: str | None = Field(default=None, max_length=64)
    limit: StrictInt = Field(default=DEFAULT_POSITIONS, ge=1, le=MAX_POSITIONS)
