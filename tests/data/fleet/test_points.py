"""The rules of a point, whatever brought it: read, bounded, and rejected only with a reason."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.bad_input import json_values
from webhost.data.fleet.points import (
    EARLIEST,
    PointRejected,
    Position,
    TimeWindow,
    check_position,
    parse_point,
    parse_time,
)

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
WINDOW = TimeWindow.at(NOW, retention_days=None)


def a_point(**fields: Any) -> dict[str, Any]:
    return {"vehicle": "v", "time": "2026-12-02T15:00:00Z", "latitude": 1, "longitude": 2, **fields}


def test_a_point_reads_into_a_position() -> None:
    position = parse_point(
        a_point(speed=12, heading=359.5, altitude=-3, accuracy=4.5, battery=80, attributes={})
    )
    assert position == Position(
        vehicle="v",
        device_time=datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        latitude=1.0,
        longitude=2.0,
        speed=12.0,
        heading=359.5,
        altitude=-3.0,
        accuracy=4.5,
        battery=80.0,
        attributes={},
    )
    assert check_position(position, WINDOW) == position


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-02T16:00:00+01:00", datetime(2026, 12, 2, 15, tzinfo=UTC)),
        ("2026-12-02T15:00:00.123456Z", datetime(2026, 12, 2, 15, 0, 0, 123456, tzinfo=UTC)),
        (1796223600, datetime(2026, 12, 2, 15, tzinfo=UTC)),
        (1796223600000, datetime(2026, 12, 2, 15, tzinfo=UTC)),
        (1796223600.25, datetime(2026, 12, 2, 15, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_times_are_rfc3339_or_epoch_seconds_or_milliseconds(value: Any, expected: datetime) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-12-02", "2026-12-02T15:00:00", "yesterday", "", 1e300, -1e300, None, [], {}]
)
def test_times_that_are_not_one_are_rejected(value: Any) -> None:
    with pytest.raises(PointRejected):
        parse_time(value)


def test_heading_360_is_north_and_so_is_what_real_rounds_to_360() -> None:
    for heading in (360.0, 359.99999999):
        position = parse_point(a_point(heading=heading))
        assert check_position(position, WINDOW).heading == 0.0


def test_the_window_runs_from_2000_or_the_retention_to_a_day_ahead() -> None:
    window = TimeWindow.at(NOW, retention_days=30)
    assert window.earliest == NOW - timedelta(days=30)
    assert TimeWindow.at(datetime(2000, 1, 5, tzinfo=UTC), 30).earliest == EARLIEST
    inside = parse_point(a_point(time="2026-12-03T15:29:00Z"))
    assert check_position(inside, window) == inside
    for time, reason in [
        ("2026-12-03T15:31:00Z", "a day ahead"),
        ("2026-11-01T00:00:00Z", "retention of 30 days"),
    ]:
        with pytest.raises(PointRejected, match=reason):
            check_position(parse_point(a_point(time=time)), window)


@settings(max_examples=300, deadline=None)
@given(
    raw=json_values(max_leaves=12)
    | st.builds(
        a_point,
        **{
            name: json_values(max_leaves=3) | st.floats() | st.integers()
            for name in ("time", "latitude", "longitude", "speed", "heading", "battery", "altitude")
        },
    )
)
def test_any_json_is_a_position_within_bounds_or_rejected_with_a_reason(raw: Any) -> None:
    try:
        position = check_position(parse_point(raw), WINDOW)
    except PointRejected as rejected:
        reason = rejected.reason
        assert reason
        return
    assert -90 <= position.latitude <= 90
    assert -180 <= position.longitude <= 180
    assert position.heading is None or 0 <= position.heading < 360
    assert position.speed is None or position.speed >= 0
    assert position.battery is None or 0 <= position.battery <= 100
    for value in (position.latitude, position.longitude, position.altitude, position.accuracy):
        assert value is None or math.isfinite(value)
    assert WINDOW.earliest <= position.device_time <= WINDOW.latest


NUMBER_FIELDS = ("latitude", "longitude", "speed", "heading", "altitude", "accuracy", "battery")
BOUNDS = {
    "latitude": (-90, 90),
    "longitude": (-180, 180),
    "speed": (0, 10_000),
    "heading": (0, 360),
    "altitude": (-1_000_000, 1_000_000),
    "accuracy": (0, 10_000_000),
    "battery": (0, 100),
}


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {name: st.floats(-200, 200) | st.floats() for name in NUMBER_FIELDS},
    )
)
def test_the_first_number_that_is_not_finite_is_named_else_the_first_out_of_bounds(
    numbers: dict[str, float],
) -> None:
    position = Position(vehicle="v", device_time=NOW, **numbers)
    not_finite = [name for name in NUMBER_FIELDS if not math.isfinite(numbers[name])]
    outside = [
        name for name in NUMBER_FIELDS if not BOUNDS[name][0] <= numbers[name] <= BOUNDS[name][1]
    ]
    if not not_finite and not outside:
        check_position(position, WINDOW)
        return
    first = not_finite[0] if not_finite else outside[0]
    with pytest.raises(PointRejected, match=f"^{first} "):
        check_position(position, WINDOW)
