"""Geofences over HTTP: their life, their validation, and the positions inside them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.data.fleet.fleets import NOW, WINDOW, generated_fleet, positions_where
from tests.data.fleet.positions import Fix, FleetDatabase, Vehicle
from tests.data.fleet.shapes import near_boundary, places_around, radii, star_polygons
from tests.support.bad_input import OVER_HTTP, assert_clear_error, nested_text
from tests.support.database import ProvisionedTenant
from webhost.data.fleet.geometry import Geofence, haversine_m

SPAN: dict[str, Any] = {
    "from": WINDOW.start.isoformat(),
    "to": WINDOW.end.isoformat(),
    "limit": 10_000,
}
SQUARE = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/fleet/geofences", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_polygon_geofence_lives_and_dies(client: httpx.Client) -> None:
    made = create(client, name="Depot", polygon=[*SQUARE, SQUARE[0]], metadata={"site": 7})
    assert made["name"] == "Depot"
    assert made["shape"] == "polygon"
    assert made["polygon"] == SQUARE  # the closing vertex is implied
    assert (made["center"], made["radius_m"]) == (None, None)
    assert made["bounds"] == {"min_lon": 0, "min_lat": 0, "max_lon": 2, "max_lat": 2}
    assert made["metadata"] == {"site": 7}
    path = f"/v1/fleet/geofences/{made['id']}"
    assert client.get(path).json() == made
    assert client.get("/v1/fleet/geofences").json() == [made]

    renamed = client.patch(path, json={"name": "Old depot", "metadata": {}}).json()
    assert (renamed["name"], renamed["metadata"], renamed["polygon"]) == ("Old depot", {}, SQUARE)
    assert renamed["created_at"] == made["created_at"]
    assert renamed["updated_at"] >= made["updated_at"]
    moved = client.patch(path, json={"polygon": [[10, 10], [11, 10], [10, 11]]}).json()
    assert moved["bounds"] == {"min_lon": 10, "min_lat": 10, "max_lon": 11, "max_lat": 11}
    assert moved["name"] == "Old depot"
    error = assert_clear_error(client.patch(path, json={"radius_m": 50}), 422)
    assert "center" in error["message"]
    circle = client.patch(path, json={"center": [5, 6], "radius_m": 50}).json()
    assert (circle["shape"], circle["polygon"], circle["center"]) == ("circle", None, [5, 6])

    assert client.delete(path).status_code == 204
    assert_clear_error(client.get(path), 404)
    assert_clear_error(client.delete(path), 404)
    assert_clear_error(client.patch(path, json={"name": "x"}), 404)
    assert client.get("/v1/fleet/geofences").json() == []


def test_a_circle_geofence_and_its_bounds(client: httpx.Client) -> None:
    made = create(client, name="Yard", center=[13.4, 52.5], radius_m=1000)
    assert (made["shape"], made["center"], made["radius_m"]) == ("circle", [13.4, 52.5], 1000)
    bounds = made["bounds"]
    assert bounds["min_lat"] == pytest.approx(52.5 - 0.008993, abs=1e-6)
    assert bounds["min_lon"] < 13.4 < bounds["max_lon"]
    wider = client.patch(f"/v1/fleet/geofences/{made['id']}", json={"radius_m": 2000}).json()
    assert (wider["center"], wider["radius_m"]) == ([13.4, 52.5], 2000)
    across = create(client, name="Dateline", center=[179.99, 0], radius_m=10_000)
    assert (across["bounds"]["min_lon"], across["bounds"]["max_lon"]) == (-180, 180)
    polar = create(client, name="Pole", center=[0, 89.99], radius_m=10_000)
    assert (polar["bounds"]["max_lat"], polar["bounds"]["min_lon"]) == (90, -180)
    page = client.get("/v1/fleet/geofences", params={"limit": 2, "offset": 1}).json()
    assert [g["name"] for g in page] == ["Dateline", "Pole"]


def test_deleting_a_geofence_takes_it_off_the_vehicles_inside(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    fleet.add_vehicles(tenant.tenant, [Vehicle("van", "", [Fix(NOW, 1.0, 1.0)])])
    made = create(client, name="Square", polygon=SQUARE)

    async def inside(connection: AsyncConnection) -> None:
        await connection.execute(
            text("UPDATE fleet_latest SET geofences = ARRAY[CAST(:id AS bigint), 77]"),
            {"id": made["id"]},
        )

    fleet.as_tenant(tenant.tenant, inside)
    assert client.get("/v1/fleet/latest").json()[0]["geofences"] == [made["id"], 77]
    client.delete(f"/v1/fleet/geofences/{made['id']}")
    assert client.get("/v1/fleet/latest").json()[0]["geofences"] == [77]


BAD_BODIES = [
    {"name": "both", "polygon": SQUARE, "center": [0, 0], "radius_m": 5},
    {"name": "neither"},
    {"name": "half a circle", "center": [0, 0]},
    {"name": "half a circle", "radius_m": 5},
    {"name": "", "polygon": SQUARE},
    {"name": "n" * 201, "polygon": SQUARE},
    {"name": "nul\x00", "polygon": SQUARE},
    {"name": 12, "polygon": SQUARE},
    {"polygon": SQUARE},
    {"name": "c", "center": [0, 0], "radius_m": 0},
    {"name": "c", "center": [0, 0], "radius_m": -1},
    {"name": "c", "center": [0, 0], "radius_m": float("nan")},
    {"name": "c", "center": [0, 0], "radius_m": float("inf")},
    {"name": "c", "center": [0, 0], "radius_m": 20_000_001},
    {"name": "c", "center": [0, 0], "radius_m": "5"},
    {"name": "c", "center": [0, 0], "radius_m": True},
    {"name": "c", "center": [181, 0], "radius_m": 5},
    {"name": "c", "center": [0, -90.5], "radius_m": 5},
    {"name": "c", "center": [0], "radius_m": 5},
    {"name": "c", "center": [0, 0, 0], "radius_m": 5},
    {"name": "c", "center": "0,0", "radius_m": 5},
    {"name": "c", "center": [0, float("nan")], "radius_m": 5},
    {"name": "p", "polygon": [[0, 0], [1, 1]]},
    {"name": "p", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]},
    {"name": "p", "polygon": [[0, 0], [1, 0], [1, None]]},
    {"name": "p", "polygon": SQUARE * 300},
    {"name": "p", "polygon": SQUARE, "metadata": []},
    {"name": "p", "polygon": SQUARE, "metadata": "x"},
    {"name": "p", "polygon": SQUARE, "metadata": {"k": "v\x00"}},
    {"name": "p", "polygon": SQUARE, "metadata": {"k\x00": 1}},
    {"name": "p", "polygon": SQUARE, "metadata": {"k": float("nan")}},
    {"name": "p", "polygon": SQUARE, "extra": 1},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_geofences_get_422_and_nothing_is_stored(
    client: httpx.Client, body: dict[str, Any]
) -> None:
    response = client.post(
        "/v1/fleet/geofences",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert_clear_error(response, 422)
    assert client.get("/v1/fleet/geofences").json() == []


# as changes, all but the two that are whole geofences without their name are wrong
BAD_CHANGES = [
    body for body in BAD_BODIES if body not in ({"name": "neither"}, {"polygon": SQUARE})
]


@pytest.mark.parametrize("body", BAD_CHANGES)
def test_bad_changes_get_422_and_change_nothing(client: httpx.Client, body: dict[str, Any]) -> None:
    made = create(client, name="Keep", polygon=SQUARE)
    path = f"/v1/fleet/geofences/{made['id']}"
    response = client.patch(
        path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert_clear_error(response, 422)
    assert client.get(path).json() == made


def test_an_empty_change_changes_nothing_but_the_time(client: httpx.Client) -> None:
    made = create(client, name="Keep", polygon=SQUARE, metadata={"a": 1})
    changed = client.patch(f"/v1/fleet/geofences/{made['id']}", json={}).json()
    assert {**changed, "updated_at": None} == {**made, "updated_at": None}


def test_metadata_nested_too_deep_is_refused(client: httpx.Client) -> None:
    deep = nested_text(70, [True, False])
    raw = f'{{"name": "deep", "polygon": {json.dumps(SQUARE)}, "metadata": {{"a": {deep}}}}}'
    response = client.post(
        "/v1/fleet/geofences", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert_clear_error(response, 422)


@pytest.mark.parametrize("geofence_id", ["abc", "0", "-1", str(2**63), "1.5", "%00"])
def test_geofence_ids_that_cannot_exist_get_422(client: httpx.Client, geofence_id: str) -> None:
    assert_clear_error(client.get(f"/v1/fleet/geofences/{geofence_id}"), 422)
    assert_clear_error(client.get(f"/v1/fleet/geofences/{geofence_id}/positions"), 422)


def test_unknown_geofences_are_not_found(client: httpx.Client) -> None:
    assert_clear_error(client.get("/v1/fleet/geofences/999"), 404)
    assert_clear_error(client.get("/v1/fleet/geofences/999/positions"), 404)


def _as_geofence(stored: dict[str, Any]) -> Geofence:
    if stored["shape"] == "circle":
        return Geofence.of_circle(stored["id"], tuple(stored["center"]), stored["radius_m"])
    return Geofence.of_polygon(stored["id"], [tuple(v) for v in stored["polygon"]])


def test_positions_in_a_geofence_are_those_geofences_containing_finds(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    vehicles = generated_fleet(seed=21, count=120)
    fleet.add_vehicles(tenant.tenant, vehicles)
    corners = [(f.longitude - 0.01, f.latitude - 0.01) for v in vehicles for f in v.fixes]
    circles = st.fixed_dictionaries({"center": places_around(corners).map(list), "radius_m": radii})
    polygons = st.fixed_dictionaries(
        {"polygon": star_polygons(centers=places_around(corners)).map(lambda p: [*map(list, p)])}
    )

    @OVER_HTTP
    @given(shape=st.one_of(circles, polygons))
    def check(shape: dict[str, Any]) -> None:
        response = client.post("/v1/fleet/geofences", json={"name": "generated", **shape})
        if response.status_code == 422:  # a star polygon whose clamped vertices repeat
            return
        stored = response.json()
        fence = _as_geofence(stored)
        found = client.get(f"/v1/fleet/geofences/{stored['id']}/positions", params=SPAN)
        assert found.status_code == 200, found.text
        got = [(p["device_time"], p["identifier"]) for p in found.json()["positions"]]

        def undecided(lat: float, lon: float) -> bool:
            if fence.center is not None and fence.radius_m is not None:
                distance = haversine_m(fence.center[1], fence.center[0], lat, lon)
                return abs(distance - fence.radius_m) <= 1e-5
            return near_boundary((lon, lat), list(fence.polygon))

        def key(moment: Any, identifier: str) -> tuple[str, str]:
            return moment.isoformat().replace("+00:00", "Z"), identifier

        edge = {key(*k) for k in positions_where(vehicles, undecided)}
        expected = [key(*k) for k in positions_where(vehicles, fence.contains)]
        assert [k for k in got if k not in edge] == [k for k in expected if k not in edge]
        client.delete(f"/v1/fleet/geofences/{stored['id']}")

    check()


def test_positions_in_a_geofence_follow_the_window(
    client: httpx.Client, fleet: FleetDatabase, tenant: ProvisionedTenant
) -> None:
    old = NOW - timedelta(days=2)
    fleet.add_vehicles(
        tenant.tenant, [Vehicle("van", "", [Fix(old, 1.0, 1.0), Fix(NOW, 1.5, 1.5)])]
    )
    made = create(client, name="Square", polygon=SQUARE)
    path = f"/v1/fleet/geofences/{made['id']}/positions"
    assert len(client.get(path).json()["positions"]) == 1
    span = {"from": (old - timedelta(hours=1)).isoformat(), "to": NOW.isoformat()}
    assert len(client.get(path, params=span).json()["positions"]) == 2
    cut = client.get(path, params={**span, "limit": 1}).json()
    assert (len(cut["positions"]), cut["truncated"]) == (1, True)
    reversed_span = {"from": NOW.isoformat(), "to": old.isoformat()}
    assert_clear_error(client.get(path, params=reversed_span), 422)
