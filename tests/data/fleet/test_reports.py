"""Trips, stops and summaries of hand-built and generated tracks, as pure functions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.data.fleet.shapes import destination
from tests.data.fleet.tracks import drive, then
from webhost.data.fleet.geometry import haversine_m
from webhost.data.fleet.reports import (
    ReportOptions,
    Stop,
    TrackPoint,
    Trip,
    analyse,
    stops,
    summary,
    trips,
)

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def commute() -> list[TrackPoint]:
    """20 min parked, 30 min driving at 50 km/h, 40 min parked, 10 min driving."""
    track = drive(START, (48.0, 11.0), 1200, 0.0)
    then(track, 1800, 50.0)
    then(track, 2400, 0.0)
    then(track, 600, 50.0)
    return track


def test_a_commute_has_two_trips_between_stops() -> None:
    track = commute()
    analysis = analyse(track)
    assert [(t.start.time, t.end.time) for t in analysis.trips] == [
        (START + timedelta(seconds=1210), START + timedelta(seconds=3010)),
        (START + timedelta(seconds=5410), START + timedelta(seconds=6000)),
    ]
    assert [(s.start_time, s.end_time) for s in analysis.stops] == [
        (START, START + timedelta(seconds=1210)),
        (START + timedelta(seconds=3010), START + timedelta(seconds=5410)),
    ]
    step = 50 / 3.6 * 10  # metres between points while driving
    first = analysis.trips[0]
    # it starts at the first moving point, 10 s and one step after the vehicle set off
    assert first.distance_m == pytest.approx(179 * step)
    assert first.duration_s == 1800
    assert first.max_speed_kmh == 50
    assert first.average_speed_kmh == pytest.approx(179 * step / 1800 * 3.6)
    assert analysis.stops[1].duration_s == 2400
    assert analysis.stops[1].latitude == first.end.latitude
    total = analysis.summary
    assert total.points == len(track)
    assert total.duration_s == 6000
    assert total.moving_s == 1800 + 590
    assert total.distance_m == pytest.approx(240 * step)
    assert total.max_speed_kmh == 50
    assert total.average_speed_kmh == pytest.approx(238 * step / 2390 * 3.6)
    assert total.start is not None
    assert total.start.time == START


def test_short_pauses_and_short_moves_do_not_split() -> None:
    track = drive(START, (48.0, 11.0), 1200, 40.0)
    then(track, 120, 0.0)  # a traffic light: shorter than min_stop_seconds
    then(track, 1200, 40.0)
    then(track, 1800, 0.0)
    then(track, 60, 5.0)  # shunting in a car park: 83 m in a minute
    then(track, 1800, 0.0)
    analysis = analyse(track)
    assert len(analysis.trips) == 1
    assert analysis.trips[0].duration_s == 1200 + 120 + 1200 + 10
    assert len(analysis.stops) == 1


def test_a_short_move_that_lasts_long_enough_is_a_trip() -> None:
    track = drive(START, (48.0, 11.0), 600, 0.0)
    then(track, 400, 3.0)  # slow: 333 m in 400 s, past min_trip_seconds
    then(track, 600, 0.0)
    assert len(trips(track)) == 1
    assert trips(track, ReportOptions(min_trip_seconds=3600)) == []


def test_options_change_the_thresholds() -> None:
    track = drive(START, (48.0, 11.0), 1200, 40.0)
    then(track, 120, 0.0)
    then(track, 1200, 40.0)
    assert len(stops(track)) == 0
    assert len(stops(track, ReportOptions(min_stop_seconds=60))) == 1
    assert trips(track, ReportOptions(speed_threshold_kmh=100)) == []


def test_a_gap_in_the_data_ends_a_trip() -> None:
    track = drive(START, (48.0, 11.0), 600, 60.0)
    resumed = drive(
        track[-1].time + timedelta(hours=2), (track[-1].latitude, track[-1].longitude), 600, 60.0
    )
    found = trips(track + resumed)
    assert [(t.start.time, t.end.time) for t in found] == [
        (track[0].time, track[-1].time),
        (resumed[0].time, resumed[-1].time),
    ]
    assert stops(track + resumed) == [
        Stop(track[-1].time, resumed[0].time, track[-1].latitude, track[-1].longitude, 7200.0)
    ]


def test_speeds_missing_from_points_come_from_their_distances() -> None:
    track = drive(START, (48.0, 11.0), 600, 0.0, report_speed=False)
    then(track, 1200, 36.0, report_speed=False)
    then(track, 600, 0.0, report_speed=False)
    (trip,) = trips(track)
    assert trip.max_speed_kmh == pytest.approx(36)
    assert trip.duration_s == 1200


def test_empty_and_single_point_tracks() -> None:
    empty = analyse([])
    assert (empty.trips, empty.stops, empty.summary.points) == ([], [], 0)
    assert empty.summary.start is None
    assert empty.summary.distance_m == 0
    one = analyse([TrackPoint(START, 1.0, 2.0, 0.0)])
    assert one.trips == []
    assert [stop.duration_s for stop in one.stops] == [0]
    assert summary([TrackPoint(START, 1.0, 2.0, 80.0)]).max_speed_kmh == 80


def test_points_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="increasing time"):
        analyse([TrackPoint(START, 0, 0), TrackPoint(START, 0, 1)])


@st.composite
def tracks(draw: st.DrawFn) -> list[TrackPoint]:
    """Tracks of moving and standing phases with noisy speeds, gaps and missing speeds."""
    noise = draw(st.randoms(use_true_random=False))
    lat = draw(st.floats(-80, 80))
    lon = draw(st.floats(-179, 179))
    time = START
    points = [TrackPoint(time, lat, lon, 0.0)]
    for _ in range(draw(st.integers(0, 12))):
        every = draw(st.sampled_from([2, 5, 30, 120]))
        seconds = draw(st.integers(0, 2000))
        speed = draw(st.sampled_from([0.0, 0.5, 3.0, 30.0, 120.0]))
        gap = draw(st.sampled_from([0, 0, 0, 4000]))
        bearing = draw(st.floats(0, 360))
        report = draw(st.booleans())
        for _ in range(seconds // every):
            time += timedelta(seconds=every + (gap if _ == 0 else 0))
            noisy = max(0.0, speed + noise.choice([-1.0, 0.0, 0.0, 1.0]))
            lon, lat = destination(lat, lon, bearing, noisy / 3.6 * every)
            points.append(TrackPoint(time, lat, lon, noisy if report else None))
    return points


options = st.builds(
    ReportOptions,
    min_stop_seconds=st.sampled_from([0.0, 60.0, 300.0]),
    speed_threshold_kmh=st.sampled_from([0.0, 1.852, 10.0]),
    min_trip_meters=st.sampled_from([0.0, 500.0, 5000.0]),
    min_trip_seconds=st.sampled_from([0.0, 300.0]),
    max_gap_seconds=st.sampled_from([600.0, 3600.0]),
)


def _segments(found_trips: list[Trip], found_stops: list[Stop]) -> list[tuple[datetime, datetime]]:
    return sorted(
        [(t.start.time, t.end.time) for t in found_trips]
        + [(s.start_time, s.end_time) for s in found_stops]
    )


@settings(max_examples=200, deadline=None)
@given(track=tracks(), chosen=options)
def test_reports_keep_their_invariants(track: list[TrackPoint], chosen: ReportOptions) -> None:
    analysis = analyse(track, chosen)
    times = [point.time for point in track]
    segments = _segments(analysis.trips, analysis.stops)
    # trips and stops lie on the track, in order, and only touch at their ends
    for start, end in segments:
        assert start in times
        assert end in times
        assert start <= end
    for (_, end), (start, _) in itertools.pairwise(segments):
        assert end <= start
    # one state at a time: they alternate, and together they cover the track but for the
    # unconfirmed tail
    kinds = sorted(
        [(t.start.time, t.end.time, "trip") for t in analysis.trips]
        + [(s.start_time, s.end_time, "stop") for s in analysis.stops]
    )
    assert all(a[2] != b[2] for a, b in itertools.pairwise(kinds))
    assert segments[0][0] == times[0]
    assert segments[-1][1] == times[-1]
    total = analysis.summary
    assert total.points == len(track)
    assert sum(t.distance_m for t in analysis.trips) <= total.distance_m * (1 + 1e-9) + 1e-6
    assert total.moving_s <= total.duration_s
    assert total.duration_s == (times[-1] - times[0]).total_seconds()
    path = sum(
        haversine_m(a.latitude, a.longitude, b.latitude, b.longitude)
        for a, b in itertools.pairwise(track)
    )
    assert total.distance_m == pytest.approx(path, rel=1e-9, abs=1e-6)
    for trip in analysis.trips:
        assert trip.distance_m >= 0
        assert trip.max_speed_kmh <= total.max_speed_kmh
        if trip.duration_s > 0:
            assert trip.average_speed_kmh == pytest.approx(trip.distance_m / trip.duration_s * 3.6)
    for stop in analysis.stops:
        assert stop.duration_s == (stop.end_time - stop.start_time).total_seconds()
