"""Spatial queries over HTTP: vehicles near a point, positions in boxes and polygons."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.fleets import (
    NOW,
    WINDOW,
    assert_same_vehicles,
    distances,
    generated_fleet,
    in_box,
    in_polygon,
    latest_places,
    positions_where,
)
from tests.data.fleet.positions import Fix, FleetDatabase, Vehicle
from tests.data.fleet.shapes import near_boundary, places_around, radii, star_polygons
from tests.support.bad_input import OVER_HTTP, assert_clear_error
from tests.support.database import ProvisionedTenant
from webhost.data.fleet.geometry import Bounds
from webhost.data.fleet.polygons import LonLat
from webhost.data.fleet.query_schemas import NearbyVehicleOut

SPAN = {"from": WINDOW.start.isoformat(), "to": WINDOW.end.isoformat()}


def nearby(client: httpx.Client, path: str, **params: Any) -> list[NearbyVehicleOut]:
    response = client.get(f"/v1/fleet/{path}", params=params)
    assert response.status_code == 200, response.text
    return [NearbyVehicleOut.model_validate(item) for item in response.json()]


def keys(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["device_time"], p["identifier"]) for p in body["positions"]]


def expected_keys(vehicles: list[Vehicle], keep: Any) -> list[tuple[str, str]]:
    return [
        (moment.isoformat().replace("+00:00", "Z"), identifier)
        for moment, identifier in positions_where(vehicles, keep)
    ]


def test_vehicles_near_a_point_nearest_first(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    at = NOW - timedelta(minutes=5)
    fleet.add_vehicles(
        tenant.tenant,
        [
            Vehicle("far", "Far", [Fix(at, 52.60, 13.40)]),
            Vehicle("near", "Near", [Fix(at, 52.521, 13.40, speed=12.5, heading=90)]),
            Vehicle("twin-b", "", [Fix(at, 52.53, 13.40)]),
            Vehicle("twin-a", "", [Fix(at, 52.53, 13.40)]),
            Vehicle("across", "", [Fix(at, -52.52, -166.6)]),
        ],
    )
    found = client.get(
        "/v1/fleet/near", params={"lat": 52.52, "lon": 13.40, "radius_m": 5_000}
    ).json()
    assert [v["identifier"] for v in found] == ["near", "twin-a", "twin-b"]
    assert found[0]["name"] == "Near"
    assert found[0]["distance_m"] == pytest.approx(111.2, abs=0.1)
    assert (found[0]["speed"], found[0]["heading"]) == (12.5, 90)
    wider = nearby(client, "near", lat=52.52, lon=13.40, radius_m=20_000, limit=2)
    assert [v.identifier for v in wider] == ["near", "twin-a"]
    nearest = nearby(client, "nearest", lat=52.52, lon=13.40, n=4)
    assert [v.identifier for v in nearest] == ["near", "twin-a", "twin-b", "far"]
    # the antipode's nearest vehicle is the one on the other side of the antimeridian
    assert nearby(client, "nearest", lat=-52.52, lon=-166.6 + 0.01, n=1)[0].identifier == "across"
    assert nearby(client, "nearest", lat=0, lon=0)[-1].identifier == "across"


def test_near_and_nearest_over_http_match_the_generated_fleet(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    vehicles = generated_fleet(seed=11, count=150, fixes=2)
    fleet.add_vehicles(tenant.tenant, vehicles)
    places = latest_places(vehicles)

    @OVER_HTTP
    @given(at=places_around(list(places.values())), radius=radii, n=st.integers(1, 100))
    def check(at: LonLat, radius: float, n: int) -> None:
        lon, lat = at
        expected = distances(places, lat, lon)
        near = nearby(client, "near", lat=lat, lon=lon, radius_m=radius, limit=1000)
        assert_same_vehicles(expected, near, within=radius)
        assert_same_vehicles(expected, nearby(client, "nearest", lat=lat, lon=lon, n=n), nearest=n)

    check()


def test_positions_in_boxes_and_polygons_over_http(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    vehicles = generated_fleet(seed=12, count=100)
    fleet.add_vehicles(tenant.tenant, vehicles)
    corners = [(f.longitude - 0.01, f.latitude - 0.01) for v in vehicles for f in v.fixes]

    @OVER_HTTP
    @given(polygon=star_polygons(centers=places_around(corners)))
    def check(polygon: list[LonLat]) -> None:
        if len(set(polygon)) < len(polygon):
            return
        west, south = min(x for x, _ in polygon), min(y for _, y in polygon)
        east, north = max(x for x, _ in polygon), max(y for _, y in polygon)
        box = {"min_lon": west, "min_lat": south, "max_lon": east, "max_lat": north}
        in_the_box = client.get("/v1/fleet/positions/box", params={**box, **SPAN, "limit": 10_000})
        assert in_the_box.status_code == 200, in_the_box.text
        assert keys(in_the_box.json()) == expected_keys(
            vehicles, in_box(Bounds(west, south, east, north))
        )
        body = {"polygon": [list(v) for v in polygon], **SPAN, "limit": 10_000}
        within = client.post("/v1/fleet/positions/within", json=body)
        assert within.status_code == 200, within.text
        edge = expected_keys(vehicles, lambda lat, lon: near_boundary((lon, lat), polygon))
        got = [k for k in keys(within.json()) if k not in edge]
        assert got == [k for k in expected_keys(vehicles, in_polygon(polygon)) if k not in edge]

    check()


def test_position_queries_are_limited_and_windowed(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    old = NOW - timedelta(days=3)
    fleet.add_vehicles(
        tenant.tenant,
        [
            Vehicle(
                "a",
                "",
                [
                    Fix(old, 1.0, 1.0),
                    *[Fix(NOW - timedelta(minutes=m), 1.0, 1.0) for m in range(5)],
                ],
            )
        ],
    )
    box = {"min_lat": 0, "min_lon": 0, "max_lat": 2, "max_lon": 2}
    recent = client.get("/v1/fleet/positions/box", params=box).json()
    assert (len(recent["positions"]), recent["truncated"]) == (5, False)
    cut = client.get("/v1/fleet/positions/box", params={**box, "limit": 2}).json()
    assert (len(cut["positions"]), cut["truncated"]) == (2, True)
    earlier = {
        "from": (old - timedelta(hours=1)).isoformat(),
        "to": (old + timedelta(hours=1)).isoformat(),
    }
    back = client.get("/v1/fleet/positions/box", params={**box, **earlier}).json()
    assert [p["device_time"] for p in back["positions"]] == [old.isoformat().replace("+00:00", "Z")]
    square = {"polygon": [[0, 0], [2, 0], [2, 2], [0, 2]], "limit": 3}
    within = client.post("/v1/fleet/positions/within", json=square).json()
    assert (len(within["positions"]), within["truncated"]) == (3, True)
    assert client.post("/v1/fleet/positions/within", json={**square, **earlier}).json()[
        "positions"
    ][0]["device_time"] == old.isoformat().replace("+00:00", "Z")


NEAR = {"lat": 10, "lon": 10, "radius_m": 1000}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("near", {**NEAR, "lat": 90.5}),
        ("near", {**NEAR, "lat": "nan"}),
        ("near", {**NEAR, "lon": "-inf"}),
        ("near", {**NEAR, "lon": "1e400"}),
        ("near", {**NEAR, "lon": -180.0001}),
        ("near", {**NEAR, "lon": "east"}),
        ("near", {**NEAR, "radius_m": 0}),
        ("near", {**NEAR, "radius_m": -5}),
        ("near", {**NEAR, "radius_m": 20_000_001}),
        ("near", {**NEAR, "radius_m": "NaN"}),
        ("near", {**NEAR, "limit": 1001}),
        ("near", {"lat": 1, "lon": 1}),
        ("near", {"lat": 1, "radius_m": 1}),
        ("nearest", {"lat": 1, "lon": 1, "n": 0}),
        ("nearest", {"lat": 1, "lon": 1, "n": 101}),
        ("nearest", {"lat": 1, "lon": 1, "n": 1.5}),
        ("nearest", {"lat": "1\x00", "lon": 1}),
        ("positions/box", {"min_lat": 1, "max_lat": 0, "min_lon": 0, "max_lon": 1}),
        ("positions/box", {"min_lat": 0, "max_lat": 1, "min_lon": 170, "max_lon": -170}),
        ("positions/box", {"min_lat": 0, "max_lat": 1, "min_lon": 0}),
        ("positions/box", {"min_lat": 0, "max_lat": 91, "min_lon": 0, "max_lon": 1}),
        ("positions/box", {"min_lat": 0, "max_lat": 1, "min_lon": 0, "max_lon": 1, "limit": 0}),
        (
            "positions/box",
            {"min_lat": 0, "max_lat": 1, "min_lon": 0, "max_lon": 1, "limit": 10_001},
        ),
        (
            "positions/box",
            {"min_lat": 0, "max_lat": 1, "min_lon": 0, "max_lon": 1, "to": "2024-13-01T00:00Z"},
        ),
    ],
)
def test_bad_spatial_parameters_get_422(
    client: httpx.Client, path: str, params: dict[str, Any]
) -> None:
    assert_clear_error(client.get(f"/v1/fleet/{path}", params=params), 422)


def test_antimeridian_boxes_are_refused_with_a_way_out(client: httpx.Client) -> None:
    params = {"min_lat": 0, "max_lat": 1, "min_lon": 170, "max_lon": -170}
    error = assert_clear_error(client.get("/v1/fleet/positions/box", params=params), 422)
    assert "antimeridian" in error["message"]


SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1]]


@pytest.mark.parametrize(
    "body",
    [
        {"polygon": SQUARE[:2]},
        {"polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]},
        {"polygon": [[0, 0], [1, 0], [2, 0]]},
        {"polygon": [[0, 0], [1, 0], [1, float("nan")]]},
        {"polygon": [[0, 0], [1, 0], [1, 1e400]]},
        {"polygon": [[0, 0], [1, 0], [1, "1"]]},
        {"polygon": [[0, 0], [1, 0], [1, True]]},
        {"polygon": [[0, 0], [1, 0], [1]]},
        {"polygon": [[0, 0], [1, 0], [[1, 1]]]},
        {"polygon": "POLYGON((0 0, 1 0, 1 1, 0 0))"},
        {"polygon": {"type": "Polygon"}},
        {"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]] * 300},
        {"polygon": [[n / 1000, (n % 2) / 1000] for n in range(1002)]},
        {},
        {"polygon": SQUARE, "limit": 0},
        {"polygon": SQUARE, "limit": "5"},
        {"polygon": SQUARE, "limit": 10_001},
        {"polygon": SQUARE, "from": 1714521600},
        {"polygon": SQUARE, "from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
        {"polygon": SQUARE, "to": "\x00"},
        {"polygon": SQUARE, "extra": 1},
    ],
)
def test_bad_polygon_queries_get_422(client: httpx.Client, body: dict[str, Any]) -> None:
    text = json.dumps(body)  # NaN and Infinity go out as the literals some clients send
    response = client.post(
        "/v1/fleet/positions/within",
        content=text.encode(),
        headers={"content-type": "application/json"},
    )
    assert_clear_error(response, 422)


def test_malformed_polygon_bodies_get_a_clear_error(client: httpx.Client) -> None:
    for raw in (b"", b"{", b"[]", b"null", b'{"polygon": [[0,0],[1,0],[1,1]]'):
        response = client.post(
            "/v1/fleet/positions/within", content=raw, headers={"content-type": "application/json"}
        )
        assert_clear_error(response)


def test_coordinates_next_to_zero_are_no_error(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    # PostgreSQL refuses a float product that underflows; these are all but (0, 0)
    tiny = [0.0, 5e-324, -1e-310, 1e-200, 1e-120]
    fixes = [
        Fix(NOW - timedelta(minutes=n), lat, lon)
        for n, (lat, lon) in enumerate((a, b) for a in tiny for b in tiny)
    ]
    fleet.add_vehicles(tenant.tenant, [Vehicle("zero", "", fixes)])
    for at in tiny:
        params = {"lat": at, "lon": -at, "radius_m": 1}
        (vehicle,) = nearby(client, "near", **params)
        assert vehicle.distance_m < 1e-90
        assert nearby(client, "nearest", lat=at, lon=at, n=1)[0].identifier == "zero"
    track = client.get("/v1/fleet/vehicles/zero/track", params={"points": 5})
    assert track.status_code == 200, track.text
    assert len(track.json()["points"]) <= 5
    fence = client.post(
        "/v1/fleet/geofences", json={"name": "o", "center": [0, 1e-300], "radius_m": 1}
    )
    inside = client.get(f"/v1/fleet/geofences/{fence.json()['id']}/positions")
    assert len(inside.json()["positions"]) == len(fixes)
