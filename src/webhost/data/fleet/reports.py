"""Trips, stops and a summary of one vehicle's track: pure functions over time-ordered points.

The definitions follow Traccar's reports:

- A point is *moving* when its speed is above ``speed_threshold_kmh``. A point without a
  reported speed takes the speed implied by the distance from the previous point.
- The first point decides the initial state. A run of points in the other state changes the
  state once it is long enough: a moving run after ``min_trip_seconds`` or ``min_trip_meters``
  (whichever comes first), a stationary run after ``min_stop_seconds``. The change dates
  back to the run's first point: a trip ends, and the stop begins, at the first stationary
  point; a stop ends, and the trip begins, at the first moving point.
- No data for ``max_gap_seconds`` or more ends a trip at the last point before the gap.
- The last segment ends at the last point, however short.

Trips and stops therefore alternate and only touch at their ends. Distances are great-circle
distances summed point to point, in metres; speeds in km/h; durations in seconds.
The analysis is one pass in constant memory (besides the trips and stops it returns), so a
caller may stream a long track through ``TrackAnalyser``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from webhost.data.fleet.geometry import haversine_m

KNOT_KMH = 1.852


@dataclass(frozen=True)
class TrackPoint:
    time: datetime
    latitude: float
    longitude: float
    speed: float | None = None  # km/h as reported, or None


@dataclass(frozen=True)
class ReportOptions:
    min_stop_seconds: float = 300.0
    speed_threshold_kmh: float = KNOT_KMH
    min_trip_meters: float = 500.0
    min_trip_seconds: float = 300.0
    max_gap_seconds: float = 3600.0


@dataclass(frozen=True)
class Place:
    time: datetime
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Trip:
    start: Place
    end: Place
    distance_m: float
    duration_s: float
    max_speed_kmh: float
    average_speed_kmh: float


@dataclass(frozen=True)
class Stop:
    start_time: datetime
    end_time: datetime
    latitude: float
    longitude: float
    duration_s: float


@dataclass(frozen=True)
class Summary:
    points: int
    start: Place | None
    end: Place | None
    distance_m: float
    duration_s: float
    moving_s: float  # the time spent in trips
    max_speed_kmh: float
    average_speed_kmh: float  # trip distance over the time spent in trips


@dataclass(frozen=True)
class Analysis:
    trips: list[Trip]
    stops: list[Stop]
    summary: Summary


@dataclass(frozen=True)
class _Mark:
    """A point as a segment boundary: where it is and how far the vehicle had gone."""

    point: TrackPoint
    odometer: float

    @property
    def place(self) -> Place:
        return Place(self.point.time, self.point.latitude, self.point.longitude)


def _seconds(start: TrackPoint, end: TrackPoint) -> float:
    return (end.time - start.time).total_seconds()


@dataclass
class TrackAnalyser:
    """Feed points in time order with ``add``; ``finish`` gives the analysis."""

    options: ReportOptions = field(default_factory=ReportOptions)
    trips: list[Trip] = field(default_factory=list)
    stops: list[Stop] = field(default_factory=list)
    _count: int = 0
    _first: TrackPoint | None = None
    _previous: TrackPoint | None = None
    _odometer: float = 0.0
    _max_speed: float = 0.0
    _moving: bool = False  # the confirmed state
    _start: _Mark | None = None  # where the current segment began
    _start_max: float = 0.0  # top speed since then
    _pending: _Mark | None = None  # first point of a run in the other state
    _pending_max: float = 0.0  # top speed since the run began
    _max_before_pending: float = 0.0  # the segment's top speed up to the run's first point

    def add(self, point: TrackPoint) -> None:
        previous = self._previous
        if previous is not None and point.time <= previous.time:
            raise ValueError("track points must be in strictly increasing time order")
        step = 0.0 if previous is None else self._step(previous, point)
        self._odometer += step
        speed = point.speed if point.speed is not None else self._implied_speed(previous, point)
        self._max_speed = max(self._max_speed, speed)
        moving = speed > self.options.speed_threshold_kmh
        mark = _Mark(point, self._odometer)
        self._count += 1
        self._previous = point
        if previous is None:
            self._first = point
            self._moving, self._start, self._start_max = moving, mark, speed
            return
        if self._moving and _seconds(previous, point) >= self.options.max_gap_seconds:
            assert self._start is not None
            gap_start = _Mark(previous, self._odometer - step)
            self._close(gap_start, self._start_max)
            self._moving, self._start, self._pending = False, gap_start, None
        self._start_max = max(self._start_max, speed)
        if moving == self._moving:
            self._pending = None
            return
        if self._pending is None:
            self._pending, self._pending_max = mark, speed
            self._max_before_pending = self._start_max
        else:
            self._pending_max = max(self._pending_max, speed)
        if self._confirmed(self._pending, mark, moving):
            self._close(self._pending, self._max_before_pending)
            self._moving, self._start = moving, self._pending
            self._start_max, self._pending = self._pending_max, None

    def _step(self, previous: TrackPoint, point: TrackPoint) -> float:
        return haversine_m(previous.latitude, previous.longitude, point.latitude, point.longitude)

    def _implied_speed(self, previous: TrackPoint | None, point: TrackPoint) -> float:
        if previous is None:
            return 0.0
        return self._step(previous, point) / _seconds(previous, point) * 3.6

    def _confirmed(self, pending: _Mark, now: _Mark, moving: bool) -> bool:
        elapsed = _seconds(pending.point, now.point)
        if moving:
            return (
                elapsed >= self.options.min_trip_seconds
                or now.odometer - pending.odometer >= self.options.min_trip_meters
            )
        return elapsed >= self.options.min_stop_seconds

    def _close(self, end: _Mark, max_speed: float) -> None:
        """End the current segment at ``end``: a trip or a stop, as the state says."""
        start = self._start
        assert start is not None
        duration = _seconds(start.point, end.point)
        if self._moving:
            # a difference of running sums: rounding can take it a hair below zero
            distance = max(0.0, end.odometer - start.odometer)
            average = distance / duration * 3.6 if duration > 0 else 0.0
            self.trips.append(Trip(start.place, end.place, distance, duration, max_speed, average))
        else:
            self.stops.append(
                Stop(
                    start.point.time,
                    end.point.time,
                    start.point.latitude,
                    start.point.longitude,
                    duration,
                )
            )

    def finish(self) -> Analysis:
        if self._previous is not None:
            self._close(_Mark(self._previous, self._odometer), self._start_max)
            self._start = self._pending = None
        return Analysis(self.trips, self.stops, self._summary())

    def _summary(self) -> Summary:
        first, last = self._first, self._previous
        moving_s = sum(trip.duration_s for trip in self.trips)
        trip_distance = sum(trip.distance_m for trip in self.trips)
        return Summary(
            points=self._count,
            start=Place(first.time, first.latitude, first.longitude) if first else None,
            end=Place(last.time, last.latitude, last.longitude) if last else None,
            distance_m=self._odometer,
            duration_s=_seconds(first, last) if first and last else 0.0,
            moving_s=moving_s,
            max_speed_kmh=self._max_speed,
            average_speed_kmh=trip_distance / moving_s * 3.6 if moving_s > 0 else 0.0,
        )


def analyse(points: Iterable[TrackPoint], options: ReportOptions | None = None) -> Analysis:
    analyser = TrackAnalyser(options or ReportOptions())
    for point in points:
        analyser.add(point)
    return analyser.finish()


def trips(points: Iterable[TrackPoint], options: ReportOptions | None = None) -> list[Trip]:
    return analyse(points, options).trips


def stops(points: Iterable[TrackPoint], options: ReportOptions | None = None) -> list[Stop]:
    return analyse(points, options).stops


def summary(points: Iterable[TrackPoint], options: ReportOptions | None = None) -> Summary:
    return analyse(points, options).summary
