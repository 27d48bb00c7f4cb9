"""Hand-built tracks: a vehicle going straight at steady speeds, phase after phase."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.data.fleet.shapes import destination
from webhost.data.fleet.reports import TrackPoint


def drive(
    start: datetime,
    at: tuple[float, float],
    seconds: int,
    speed_kmh: float,
    *,
    every: int = 10,
    bearing: float = 90.0,
    report_speed: bool = True,
) -> list[TrackPoint]:
    """Points every ``every`` seconds of a vehicle going straight at a steady speed from
    ``at`` (lat, lon); the first point is at ``start``."""
    points = []
    lat, lon = at
    for n in range(seconds // every + 1):
        lon2, lat2 = destination(lat, lon, bearing, speed_kmh / 3.6 * every * n)
        speed = speed_kmh if report_speed else None
        points.append(TrackPoint(start + timedelta(seconds=every * n), lat2, lon2, speed))
    return points


def then(track: list[TrackPoint], seconds: int, speed_kmh: float, **kwargs: object) -> None:
    """Continue the track from its last point."""
    last = track[-1]
    more = drive(
        last.time,
        (last.latitude, last.longitude),
        seconds,
        speed_kmh,
        **kwargs,  # type: ignore[arg-type]
    )
    track.extend(more[1:])
