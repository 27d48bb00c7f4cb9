"""Latest positions and tracks over HTTP: order, ranges, limits and downsampling."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.positions import Fix, FleetDatabase, Vehicle
from tests.support.bad_input import OVER_HTTP, assert_clear_error
from tests.support.database import ProvisionedTenant

NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def track_of(client: httpx.Client, identifier: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/fleet/vehicles/{identifier}/track", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def zigzag(start: datetime, count: int, every: timedelta = timedelta(seconds=30)) -> list[Fix]:
    return [
        Fix(
            start + every * n,
            48.0 + 0.001 * n,
            11.0 + 0.01 * math.sin(n / 5),
            speed=float(n % 90),
            heading=float(n % 360),
            altitude=500.0 + n,
            accuracy=5.0,
            battery=100.0 - n % 100,
            attributes={"n": n},
        )
        for n in range(count)
    ]


def test_latest_lists_every_vehicle_with_its_newest_position(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fixes = zigzag(NOW - timedelta(hours=1), 10)
    fleet.add_vehicles(
        tenant.tenant,
        [
            Vehicle("van-2", "Second", fixes[:4]),
            Vehicle("van-1", "First", list(reversed(fixes))),
            Vehicle("parked", "No positions yet"),
        ],
    )
    latest = client.get("/v1/fleet/latest").json()
    assert [(v["identifier"], v["name"]) for v in latest] == [
        ("van-1", "First"),
        ("van-2", "Second"),
    ]
    first = latest[0]
    assert first["device_time"] == iso(fixes[-1].time)
    assert (first["latitude"], first["longitude"]) == (fixes[-1].latitude, fixes[-1].longitude)
    assert first["speed"] == fixes[-1].speed
    assert first["geofences"] == []
    assert latest[1]["device_time"] == iso(fixes[3].time)
    page = client.get("/v1/fleet/latest", params={"limit": 1, "offset": 1}).json()
    assert [v["identifier"] for v in page] == ["van-2"]
    assert client.get("/v1/fleet/latest", params={"offset": 2}).json() == []


def test_a_track_holds_the_range_in_device_time_order(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fixes = zigzag(NOW - timedelta(days=9), 40, every=timedelta(hours=6))  # two partitions
    fleet.add_vehicles(tenant.tenant, [Vehicle("truck", "", fixes[::-1])])
    start, end = fixes[5].time, fixes[30].time
    body = track_of(client, "truck", **{"from": iso(start), "to": iso(end)})
    assert (body["identifier"], body["from"], body["to"]) == ("truck", iso(start), iso(end))
    assert (body["truncated"], body["downsampled"]) == (False, False)
    points = body["points"]
    assert [p["device_time"] for p in points] == [iso(f.time) for f in fixes[5:31]]
    sample, fix = points[3], fixes[8]
    assert sample == {
        "device_time": iso(fix.time),
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed": fix.speed,
        "heading": fix.heading,
        "altitude": fix.altitude,
        "accuracy": fix.accuracy,
        "battery": fix.battery,
        "attributes": fix.attributes,
    }
    # a time with an offset means the same instant
    shifted = (start + timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    assert track_of(client, "truck", **{"from": shifted, "to": iso(end)})["points"] == points


def test_times_keep_their_microseconds(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    moment = NOW - timedelta(minutes=5, microseconds=-123_456)
    fleet.add_vehicles(tenant.tenant, [Vehicle("bike", "", [Fix(moment, 1.0, 2.0)])])
    (point,) = track_of(client, "bike")["points"]
    assert point["device_time"] == iso(moment)
    assert client.get("/v1/fleet/latest").json()[0]["device_time"] == iso(moment)


def test_a_track_defaults_to_the_last_24_hours(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fixes = [Fix(NOW - timedelta(hours=hours), 1.0, 2.0) for hours in (30, 23, 1)]
    fleet.add_vehicles(tenant.tenant, [Vehicle("bus", "", fixes)])
    times = [p["device_time"] for p in track_of(client, "bus")["points"]]
    assert times == [iso(fixes[1].time), iso(fixes[2].time)]
    since = {"from": iso(NOW - timedelta(hours=31))}
    assert len(track_of(client, "bus", **since)["points"]) == 3
    until = {"to": iso(NOW - timedelta(hours=2))}
    # 24 hours before ``to``
    assert [p["device_time"] for p in track_of(client, "bus", **until)["points"]] == [
        iso(fixes[1].time)
    ]


def test_a_long_track_is_cut_at_the_limit_and_can_be_continued(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fixes = zigzag(NOW - timedelta(hours=2), 25)
    fleet.add_vehicles(tenant.tenant, [Vehicle("cab", "", fixes)])
    first = track_of(client, "cab", limit=10)
    assert first["truncated"] is True
    assert [p["device_time"] for p in first["points"]] == [iso(f.time) for f in fixes[:10]]
    after = datetime.fromisoformat(first["points"][-1]["device_time"]) + timedelta(microseconds=1)
    rest = track_of(client, "cab", limit=100, **{"from": iso(after)})
    assert rest["truncated"] is False
    assert [p["device_time"] for p in rest["points"]] == [iso(f.time) for f in fixes[10:]]
    exact = track_of(client, "cab", limit=25)
    assert (exact["truncated"], len(exact["points"])) == (False, 25)


def test_downsampling_keeps_the_ends_and_the_shape(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fixes = zigzag(NOW - timedelta(hours=20), 400, every=timedelta(seconds=150))
    # one excursion far off the road, the kind of point a map must not lose
    spike = fixes[250]
    fixes[250] = Fix(spike.time, spike.latitude + 0.5, spike.longitude + 0.5)
    fleet.add_vehicles(tenant.tenant, [Vehicle("plane", "", fixes)])
    every_time = [iso(f.time) for f in fixes]

    @OVER_HTTP
    @given(points=st.integers(2, 120))
    def check(points: int) -> None:
        body = track_of(client, "plane", points=points)
        times = [p["device_time"] for p in body["points"]]
        assert body["downsampled"] is True
        assert body["truncated"] is False
        assert len(times) <= points
        assert times[0] == every_time[0]
        assert times[-1] == every_time[-1]
        assert times == sorted(times)
        assert set(times) <= set(every_time)
        if points >= 10:
            assert iso(fixes[250].time) in times

    check()
    whole = track_of(client, "plane", points=400)
    assert (whole["downsampled"], len(whole["points"])) == (False, 400)


def test_unknown_vehicles_are_not_found(client: httpx.Client) -> None:
    for identifier in ("nobody", "x" * 129, "%2e%2e", "a b"):
        assert_clear_error(client.get(f"/v1/fleet/vehicles/{identifier}/track"), 404)
    assert_clear_error(client.get("/v1/fleet/vehicles/nul%00/track"), 422)


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"}, "after"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}, "31 days"),
        ({"from": "2024-05-01T00:00:00"}, "zone"),
        ({"to": "2024-05-01"}, "zone"),
        ({"to": "yesterday"}, "RFC 3339"),
        ({"to": "1714521600"}, "RFC 3339"),
        ({"to": "2024-05-01T00:00:00Z\x00"}, "NUL"),
        ({"from": "0001-01-01T00:00:00+14:00"}, "out of range"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "out of range"),
        ({"to": "0001-01-01T05:00:00Z"}, "out of range"),
        ({"to": "2024-05-01T00:00:00Z" + "0" * 100}, "at most 64"),
        ({"limit": 0}, "limit"),
        ({"limit": 100_001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"points": 1}, "points"),
        ({"points": 100_001}, "points"),
    ],
)
def test_bad_ranges_and_limits_get_422(
    client: httpx.Client,
    fleet: FleetDatabase,
    tenant: ProvisionedTenant,
    params: dict[str, Any],
    problem: str,
) -> None:
    fleet.add_vehicles(tenant.tenant, [Vehicle("car", "", zigzag(NOW, 2))])
    error = assert_clear_error(client.get("/v1/fleet/vehicles/car/track", params=params), 422)
    assert problem.lower() in (error["message"] + str(error.get("details"))).lower()
