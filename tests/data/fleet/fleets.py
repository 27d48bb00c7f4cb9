"""Generated fleets for spatial tests, and how to compare spatial answers with a tolerance."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from tests.data.fleet.positions import Fix, Vehicle
from webhost.data.fleet.geometry import Bounds, haversine_m
from webhost.data.fleet.polygons import LonLat, point_in_polygon
from webhost.data.fleet.query_schemas import NearbyVehicleOut, PositionOut, TimeWindow

# distances of one pair computed by two formulas differ by far less than this many metres
DISTANCE_TOLERANCE_M = 1e-5
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = TimeWindow(NOW - timedelta(hours=6), NOW)


def _place(rnd: random.Random) -> LonLat:
    """Anywhere on the sphere, or where lon/lat is awkward: poles, antimeridian, a city."""
    kind = rnd.random()
    if kind < 0.4:
        return rnd.uniform(-180, 180), math.degrees(math.asin(rnd.uniform(-1, 1)))
    if kind < 0.5:
        return rnd.uniform(-180, 180), rnd.uniform(88, 90)
    if kind < 0.6:
        return rnd.uniform(-180, 180), rnd.uniform(-90, -88)
    if kind < 0.75:
        return rnd.choice([-1, 1]) * rnd.uniform(178, 180), rnd.uniform(-60, 60)
    return rnd.uniform(13.3, 13.5), rnd.uniform(52.45, 52.55)  # Berlin


def generated_fleet(seed: int, count: int = 300, fixes: int = 4) -> list[Vehicle]:
    """Vehicles with a few positions each in the last hours; some share a place exactly."""
    rnd = random.Random(seed)
    vehicles: list[Vehicle] = []
    for n in range(count):
        track: list[Fix] = []
        for k in range(fixes):
            if track and rnd.random() < 0.2:
                lon, lat = track[-1].longitude, track[-1].latitude
            elif vehicles and rnd.random() < 0.05:
                lon, lat = vehicles[-1].fixes[-1].longitude, vehicles[-1].fixes[-1].latitude
            else:
                lon, lat = _place(rnd)
            moment = NOW - timedelta(hours=5) + timedelta(minutes=60 * k + rnd.randint(0, 59))
            track.append(Fix(moment, lat, lon, speed=rnd.uniform(0, 90)))
        vehicles.append(Vehicle(f"v{n:04d}", f"Vehicle {n}", track))
    return vehicles


def latest_places(vehicles: Sequence[Vehicle]) -> dict[str, LonLat]:
    return {
        vehicle.identifier: (vehicle.fixes[-1].longitude, vehicle.fixes[-1].latitude)
        for vehicle in vehicles
    }


def distances(places: dict[str, LonLat], lat: float, lon: float) -> dict[str, float]:
    return {
        identifier: haversine_m(lat, lon, place[1], place[0])
        for identifier, place in places.items()
    }


def assert_same_vehicles(
    expected: dict[str, float],
    answer: Sequence[NearbyVehicleOut],
    *,
    within: float | None = None,
    nearest: int | None = None,
) -> None:
    """``answer`` holds the vehicles of ``expected`` (identifier -> distance) within the radius
    or the nearest n, ordered by distance then identifier; vehicles whose distance is within
    the tolerance of the cut may be in or out, and near-ties may swap."""
    ranked = sorted(expected, key=lambda identifier: (expected[identifier], identifier))
    tolerance = DISTANCE_TOLERANCE_M
    if within is not None:
        cut = within
    else:
        assert nearest is not None
        assert len(answer) == min(nearest, len(ranked))
        cut = expected[ranked[len(answer) - 1]] if answer else 0.0
    surely_in = [i for i in ranked if expected[i] < cut - tolerance]
    maybe_in = {i for i in ranked if expected[i] <= cut + tolerance}
    got = [vehicle.identifier for vehicle in answer]
    assert set(surely_in) <= set(got), set(surely_in) - set(got)
    assert set(got) <= maybe_in, set(got) - maybe_in
    assert len(got) == len(set(got))
    for vehicle in answer:
        assert abs(vehicle.distance_m - expected[vehicle.identifier]) <= tolerance
    for position, identifier in enumerate(got):
        if position < len(surely_in):
            assert abs(expected[identifier] - expected[ranked[position]]) <= tolerance


def position_keys(answer: Sequence[PositionOut]) -> list[tuple[datetime, str]]:
    return [(position.device_time, position.identifier) for position in answer]


Keep = Callable[[float, float], bool]


def positions_where(
    vehicles: Sequence[Vehicle], keep: Keep, window: TimeWindow = WINDOW
) -> list[tuple[datetime, str]]:
    """Keys of the positions in the window for which ``keep(lat, lon)`` is true, in order."""
    return sorted(
        (fix.time, vehicle.identifier)
        for vehicle in vehicles
        for fix in vehicle.fixes
        if window.start <= fix.time <= window.end and keep(fix.latitude, fix.longitude)
    )


def in_box(bounds: Bounds) -> Keep:
    return bounds.contains


def in_polygon(vertices: Sequence[LonLat]) -> Keep:
    return lambda lat, lon: point_in_polygon(lon, lat, vertices)
