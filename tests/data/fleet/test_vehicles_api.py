"""/v1/fleet/vehicles: the tenant's vehicles, strictly validated, capped by the plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.tracking import as_tenant, latest, positions, post_json, send, track
from tests.support.bad_input import OVER_HTTP, assert_clear_error, json_values, nul_strings
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL


def create(client: httpx.Client, identifier: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/fleet/vehicles", json={"identifier": identifier, **fields})
    assert response.status_code == 201, response.text
    vehicle: dict[str, Any] = response.json()
    return vehicle


def test_a_vehicle_is_created_read_changed_and_listed(client: httpx.Client) -> None:
    made = create(
        client,
        "truck-17",
        name="Truck 17",
        type="truck",
        speed_limit_kmh=90,
        metadata={"plate": "B-XY 17", "axles": 3},
    )
    assert made["identifier"] == "truck-17"
    assert made["status"] == "active"
    assert made["metadata"] == {"plate": "B-XY 17", "axles": 3}
    assert client.get("/v1/fleet/vehicles/truck-17").json() == made
    changed = client.patch(
        "/v1/fleet/vehicles/truck-17", json={"status": "maintenance", "speed_limit_kmh": None}
    ).json()
    assert (changed["status"], changed["speed_limit_kmh"], changed["name"]) == (
        "maintenance",
        None,
        "Truck 17",
    )
    assert changed["updated_at"] >= made["updated_at"]
    create(client, "van-1")
    everything = client.get("/v1/fleet/vehicles").json()
    assert [v["identifier"] for v in everything] == ["truck-17", "van-1"]
    page = client.get("/v1/fleet/vehicles", params={"limit": 1, "offset": 1}).json()
    assert [v["identifier"] for v in page] == ["van-1"]
    active = client.get("/v1/fleet/vehicles", params={"status": "active"}).json()
    assert [v["identifier"] for v in active] == ["van-1"]


def test_an_identifier_is_unique(client: httpx.Client) -> None:
    create(client, "bus")
    error = assert_clear_error(client.post("/v1/fleet/vehicles", json={"identifier": "bus"}), 409)
    assert error["code"] == "conflict"


def test_missing_vehicles_are_404(client: httpx.Client) -> None:
    assert_clear_error(client.get("/v1/fleet/vehicles/nope"), 404)
    assert_clear_error(client.patch("/v1/fleet/vehicles/nope", json={"name": "x"}), 404)
    assert_clear_error(client.delete("/v1/fleet/vehicles/nope"), 404)


def test_deleting_a_vehicle_deletes_its_positions_and_latest_position(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    send(client, track("gone", 5) + track("stays", 3))
    assert client.delete("/v1/fleet/vehicles/gone").status_code == 204
    assert {row["vehicle"] for row in positions(dataplane_database, tenant)} == {"stays"}
    assert set(latest(dataplane_database, tenant)) == {"stays"}
    leftover = as_tenant(dataplane_database, tenant, "SELECT count(*) AS n FROM fleet_positions")
    assert leftover[0]["n"] == 3
    # sending again registers it anew, with nothing of the old one
    assert send(client, track("gone", 5))["accepted"] == 5


def test_the_plans_vehicle_limit_is_enforced(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    tenant = limited_tenant(vehicle_limit=2)
    with api_client(data_server.url, tenant.api_key) as client:
        create(client, "one")
        create(client, "two")
        error = assert_clear_error(
            client.post("/v1/fleet/vehicles", json={"identifier": "three"}), 403
        )
        assert error["code"] == "vehicle_limit_reached"
        assert "at most 2 vehicles" in error["message"]
        assert client.delete("/v1/fleet/vehicles/one").status_code == 204
        create(client, "three")


def test_bad_vehicles_are_refused_with_422(client: httpx.Client) -> None:
    nested: dict[str, Any] = {}
    for _ in range(70):
        nested = {"k": nested}
    for body in [
        {},
        {"identifier": ""},
        {"identifier": "x" * 129},
        {"identifier": "a/b"},
        {"identifier": "a\x00b"},
        {"identifier": 17},
        {"identifier": "ok", "name": "a\x00"},
        {"identifier": "ok", "status": "parked"},
        {"identifier": "ok", "speed_limit_kmh": 0},
        {"identifier": "ok", "speed_limit_kmh": 1e-50},
        {"identifier": "ok", "speed_limit_kmh": "90"},
        {"identifier": "ok", "metadata": []},
        {"identifier": "ok", "metadata": {"k\x00": 1}},
        {"identifier": "ok", "metadata": nested},
        {"identifier": "ok", "metadata": {"big": "x" * 20_000}},
        {"identifier": "ok", "colour": "red"},
        {"identifier": "ok", "type": ""},
    ]:
        assert_clear_error(client.post("/v1/fleet/vehicles", json=body), 422)
    create(client, "ok")
    for patch in [{"identifier": "new"}, {"name": None}, {"metadata": {"a": "\x00"}}]:
        assert_clear_error(client.patch("/v1/fleet/vehicles/ok", json=patch), 422)
    for body in [
        {"identifier": "nan", "metadata": {"x": float("nan")}},
        {"speed_limit_kmh": 1e999},
    ]:
        assert_clear_error(post_json(client, "/v1/fleet/vehicles", body), 422)
    assert_clear_error(client.get("/v1/fleet/vehicles/a%00b"), 422)
    for params in [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"status": "x"}]:
        assert_clear_error(client.get("/v1/fleet/vehicles", params=params), 422)


@OVER_HTTP
@given(
    body=st.dictionaries(
        st.sampled_from(["identifier", "name", "type", "status", "speed_limit_kmh", "metadata"]),
        json_values(max_leaves=5) | nul_strings() | st.floats(),
    )
)
def test_generated_vehicles_are_created_or_refused_never_failed(
    client: httpx.Client, body: dict[str, Any]
) -> None:
    response = post_json(client, "/v1/fleet/vehicles", body)
    if response.status_code != 201:
        assert_clear_error(response)


def test_full_keys_only(data_server: ServedApp, device_key: str) -> None:
    with api_client(data_server.url, device_key) as device:
        assert_clear_error(device.get("/v1/fleet/vehicles"), 403)
        assert_clear_error(device.post("/v1/fleet/vehicles", json={"identifier": "x"}), 403)
