"""Events made as positions arrive: geofence enter and exit, overspeed; stored, streamed live
and sent to webhooks, only for points newer than the vehicle's present."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from tests.data.fleet.receivers import webhook_receiver
from tests.data.fleet.tracking import point, recent, send
from tests.data.yjs.planes import StartedPlane, StartPlane
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.polling import wait_until
from webhost.data.fleet.events import Point, Rules, VehicleState, evaluate
from webhost.data.fleet.geometry import Geofence
from webhost.data.fleet.options import FleetOptions

CENTER = (13.40, 52.52)  # lon, lat
INSIDE = {"latitude": 52.52, "longitude": 13.40}
OUTSIDE = {"latitude": 52.60, "longitude": 13.40}  # about 9 km north


@pytest.fixture
def plane(start_plane: StartPlane) -> StartedPlane:
    return start_plane(
        fleet=FleetOptions(webhook_allow_private_networks=True, webhook_poll_seconds=30)
    )


@pytest.fixture
def client(plane: StartedPlane, tenant: ProvisionedTenant) -> Iterator[httpx.Client]:
    with api_client(plane.served.url, tenant.api_key) as client:
        yield client


def circle(client: httpx.Client, name: str = "depot", radius_m: float = 500) -> int:
    response = client.post(
        "/v1/fleet/geofences", json={"name": name, "center": list(CENTER), "radius_m": radius_m}
    )
    assert response.status_code == 201, response.text
    geofence: int = response.json()["id"]
    return geofence


def events(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/fleet/events", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return list(reversed(found))  # oldest first


def drive(
    vehicle: str, start: datetime, places: list[dict[str, float]], **fields: Any
) -> list[dict[str, Any]]:
    return [
        point(vehicle, start + timedelta(seconds=10 * n), **place, **fields)
        for n, place in enumerate(places)
    ]


def test_entering_and_leaving_a_geofence_make_one_event_each(client: httpx.Client) -> None:
    depot = circle(client)
    start = recent(minutes_ago=30)
    send(client, drive("van-1", start, [OUTSIDE, INSIDE, INSIDE]))
    send(client, drive("van-1", start + timedelta(minutes=1), [INSIDE, OUTSIDE, OUTSIDE]))
    made = events(client, vehicle="van-1")
    assert [(e["type"], e["geofence_id"]) for e in made] == [
        ("geofence_enter", depot),
        ("geofence_exit", depot),
    ]
    assert made[0]["attributes"] == {"geofence_name": "depot"}
    assert made[0]["event_time"] == (start + timedelta(seconds=10)).isoformat().replace(
        "+00:00", "Z"
    )
    latest = {v["identifier"]: v for v in client.get("/v1/fleet/latest").json()}
    assert latest["van-1"]["geofences"] == []


def test_a_late_point_changes_history_not_the_present(client: httpx.Client) -> None:
    circle(client)
    start = recent(minutes_ago=30)
    send(client, drive("van-2", start, [OUTSIDE, OUTSIDE]))
    # a point from before the latest, inside the geofence: stored, but no event
    answer = send(client, [point("van-2", start - timedelta(minutes=5), **INSIDE)])
    assert answer["accepted"] == 1
    assert events(client, vehicle="van-2") == []
    # the same batch sent again makes nothing twice
    batch = drive("van-2", start + timedelta(minutes=1), [INSIDE])
    send(client, batch)
    send(client, batch)
    assert [e["type"] for e in events(client, vehicle="van-2")] == ["geofence_enter"]


def test_overspeed_is_one_event_per_episode_against_the_vehicle_limit(
    client: httpx.Client,
) -> None:
    created = client.post("/v1/fleet/vehicles", json={"identifier": "bus-1", "speed_limit_kmh": 80})
    assert created.status_code == 201, created.text
    start = recent(minutes_ago=30)
    speeds = [50, 90, 100, 70, 95, 96]
    send(
        client,
        [point("bus-1", start + timedelta(seconds=n), speed=s) for n, s in enumerate(speeds)],
    )
    made = events(client, vehicle="bus-1", type="overspeed")
    assert [e["speed"] for e in made] == [90, 95]
    assert made[0]["attributes"] == {"speed_limit_kmh": 80}
    # a vehicle without a limit of its own, in a tenant without one, never speeds
    send(client, [point("car-9", start, speed=300)])
    assert events(client, vehicle="car-9") == []


def live_socket(plane: StartedPlane, key: str, query: str = "") -> ClientConnection:
    return connect(f"{plane.ws_url}/v1/fleet/live?token={key}{query}", open_timeout=10)


def test_live_subscribers_get_positions_and_events_after_commit(
    plane: StartedPlane, client: httpx.Client, tenant: ProvisionedTenant
) -> None:
    depot = circle(client)
    with (
        live_socket(plane, tenant.api_key) as everything,
        live_socket(plane, tenant.api_key, "&vehicles=other") as one_vehicle,
    ):
        time.sleep(0.2)  # subscribed before the batch
        start = recent(minutes_ago=10)
        send(client, drive("van-3", start, [OUTSIDE, INSIDE]))
        frames = [json.loads(everything.recv(timeout=5)) for _ in range(2)]
        positions = next(f for f in frames if f["type"] == "positions")["positions"]
        assert [(p["identifier"], p["latitude"]) for p in positions] == [
            ("van-3", OUTSIDE["latitude"]),
            ("van-3", INSIDE["latitude"]),
        ]
        event = next(f for f in frames if f["type"] == "event")["event"]
        assert (event["type"], event["geofence_id"], event["identifier"]) == (
            "geofence_enter",
            depot,
            "van-3",
        )
        with pytest.raises(TimeoutError):
            one_vehicle.recv(timeout=0.5)  # it follows another vehicle only


def test_a_tenant_hears_only_its_own_fleet(
    plane: StartedPlane, client: httpx.Client, other_tenant: ProvisionedTenant
) -> None:
    with live_socket(plane, other_tenant.api_key) as outsider:
        time.sleep(0.2)
        send(client, drive("van-4", recent(), [INSIDE]))
        with pytest.raises(TimeoutError):
            outsider.recv(timeout=0.5)
    with api_client(plane.served.url, other_tenant.api_key) as other:
        assert other.get("/v1/fleet/events").json() == []


def test_geofence_events_reach_webhooks_signed(client: httpx.Client) -> None:
    with webhook_receiver() as receiver:
        hook = client.post(
            "/v1/fleet/webhooks", json={"url": receiver.url, "events": ["geofence_enter"]}
        )
        assert hook.status_code == 201
        depot = circle(client)
        send(client, drive("van-5", recent(), [OUTSIDE, INSIDE, OUTSIDE]))
        wait_until(lambda: len(receiver.received) == 1, message="the enter event")
        time.sleep(0.5)
        delivered = [json.loads(r.body) for r in receiver.received]
    assert [d["type"] for d in delivered] == ["geofence_enter"]  # exits were not asked for
    assert delivered[0]["data"]["geofence_id"] == depot
    assert delivered[0]["data"]["identifier"] == "van-5"
    assert isinstance(delivered[0]["data"]["id"], int)


def test_concurrent_batches_of_one_vehicle_make_each_crossing_once(client: httpx.Client) -> None:
    circle(client)
    start = recent(minutes_ago=60)
    # ten batches in time order, sent at once: in and out every batch
    batches = [drive("van-6", start + timedelta(minutes=n), [INSIDE, OUTSIDE]) for n in range(10)]
    threads = [threading.Thread(target=send, args=(client, batch)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [e["type"] for e in events(client, vehicle="van-6", limit=1000)]
    # whatever order the batches landed in, crossings alternate and never repeat
    assert made
    assert all(a != b for a, b in itertools.pairwise(made))
    assert made[0] == "geofence_enter"


def fence() -> Geofence:
    return Geofence.of_circle(1, CENTER, 500)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 200)), min_size=1, max_size=40))
def test_generated_drives_alternate_enter_and_exit_and_speed_edges(
    steps: list[tuple[bool, float]],
) -> None:
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    state = VehicleState(1, "v", 100.0, None, None, set())
    points = [
        Point(1, start + timedelta(seconds=n), *(INSIDE if inside else OUTSIDE).values(), speed)
        for n, (inside, speed) in enumerate(steps)
    ]
    outcome = evaluate(points, {1: state}, Rules(version=(), geofences=(fence(),)))
    crossings = [e["type"] for e in outcome.events if e["type"] != "overspeed"]
    expected_crossings = []
    was_inside = False
    speeding_starts = 0
    was_speeding = False
    for inside, speed in steps:
        if inside != was_inside:
            expected_crossings.append("geofence_enter" if inside else "geofence_exit")
        was_inside = inside
        speeding_starts += speed > 100 and not was_speeding
        was_speeding = speed > 100
    assert crossings == expected_crossings
    assert len([e for e in outcome.events if e["type"] == "overspeed"]) == speeding_starts


def test_the_tenant_default_speed_limit_applies_to_vehicles_without_one(
    client: httpx.Client,
) -> None:
    assert client.get("/v1/fleet/settings").json()["overspeed_kmh"] is None
    for bad in ({"overspeed_kmh": -1}, {"overspeed_kmh": 5e-324}, {"overspeed_kmh": "x"}, {"a": 1}):
        assert client.put("/v1/fleet/settings", json=bad).status_code == 422
    nan = client.put(
        "/v1/fleet/settings",
        content=json.dumps({"overspeed_kmh": float("nan")}),
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    settings_now = client.put("/v1/fleet/settings", json={"overspeed_kmh": 120}).json()
    assert settings_now["overspeed_kmh"] == 120
    assert settings_now["spatial"] in {"postgis", "core"}
    client.post("/v1/fleet/vehicles", json={"identifier": "slow-1", "speed_limit_kmh": 60})
    start = recent(minutes_ago=20)
    send(client, [point("car-1", start, speed=130), point("slow-1", start, speed=90)])
    assert sorted(e["identifier"] for e in events(client, type="overspeed")) == ["car-1", "slow-1"]
