"""Simulated tracks look like driving: steady clocks, plausible speeds and moves, some stops."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from webhost.simulator.senders import osmand_parameters
from webhost.simulator.tracks import EARTH_RADIUS_M, fleet, move

START = datetime(2026, 12, 1, 8, tzinfo=UTC)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


@given(
    latitude=st.floats(-80, 80),
    longitude=st.floats(-180, 180),
    heading=st.floats(0, 360, exclude_max=True),
    meters=st.floats(0, 50_000),
)
def test_a_move_covers_the_distance_asked(
    latitude: float, longitude: float, heading: float, meters: float
) -> None:
    moved = move(latitude, longitude, heading, meters)
    assert -90 <= moved[0] <= 90
    assert -180 <= moved[1] < 180
    assert math.isclose(haversine_m((latitude, longitude), moved), meters, abs_tol=0.5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), seconds=st.sampled_from([0.5, 1.0, 5.0]))
def test_vehicles_drive_plausibly_and_stop_sometimes(seed: int, seconds: float) -> None:
    (vehicle,) = fleet(1, center=(52.52, 13.405), spread_m=10_000, start=START, seed=seed)
    # an hour of driving: about fourteen stops are expected, none has odds of about 1e-6
    track = [vehicle.advance(seconds) for _ in range(round(3600 / seconds))]
    times = [point.time for point in track]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    for before, after in itertools.pairwise(track):
        assert 0 <= after.speed_kmh <= 120
        assert 0 <= after.heading < 360
        distance = haversine_m(
            (before.latitude, before.longitude), (after.latitude, after.longitude)
        )
        assert distance <= 120 / 3.6 * seconds + 0.1  # never faster than its top speed
    assert any(point.speed_kmh == 0 for point in track[10:])  # it stopped at least once


def test_the_same_seed_drives_the_same_tracks() -> None:
    first = [v.advance(1.0) for v in fleet(3, center=(0, 0), spread_m=1000, start=START, seed=7)]
    again = [v.advance(1.0) for v in fleet(3, center=(0, 0), spread_m=1000, start=START, seed=7)]
    assert first == again
    assert len({point.vehicle for point in first}) == 3


def test_osmand_reports_speed_in_knots_and_time_in_epoch_units() -> None:
    (vehicle,) = fleet(1, center=(52.52, 13.405), spread_m=0, start=START, seed=1)
    vehicle.cruise_kmh = 50
    point = vehicle.advance(10)
    query = osmand_parameters(point, milliseconds=False)
    assert float(query["speed"]) == round(point.speed_kmh / 1.852, 2)
    assert query["timestamp"] == str(int(point.time.timestamp()))
    assert osmand_parameters(point, milliseconds=True)["timestamp"] == str(
        round(point.time.timestamp() * 1000)
    )
    assert query["id"] == "sim-0001"
