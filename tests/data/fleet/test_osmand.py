"""OsmAnd as Traccar Client and OsmAnd send it: query, form and JSON, one position each."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.tracking import positions, recent, send, track
from tests.support.bad_input import OVER_HTTP, assert_clear_error, json_values
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL

# what the apps send: no Authorization header, a plain HTTP client
USER_AGENT = {"User-Agent": "TraccarClient/8.0 (Android)"}


def only_position(database: PostgresURL, tenant: ProvisionedTenant) -> dict[str, Any]:
    stored = positions(database, tenant)
    assert len(stored) == 1, stored
    return stored[0]


def test_a_get_with_the_key_in_the_path_stores_the_position(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    moment = recent(3)
    # OsmAnd's own tracking URL: timestamp in milliseconds, speed in knots, hdop
    response = httpx.get(
        f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}",
        params={
            "id": "358240051111110",
            "lat": "52.520008",
            "lon": "13.404954",
            "timestamp": str(int(moment.timestamp() * 1000)),
            "hdop": "0.9",
            "altitude": "34.5",
            "speed": "10",
        },
        headers=USER_AGENT,
    )
    assert response.status_code == 200, response.text
    assert response.content == b""
    stored = only_position(dataplane_database, tenant)
    assert stored["vehicle"] == "358240051111110"
    assert stored["device_time"] == moment
    assert (stored["latitude"], stored["longitude"]) == (52.520008, 13.404954)
    assert stored["speed"] == pytest.approx(18.52, abs=1e-4)  # 10 knots
    assert stored["altitude"] == 34.5
    assert stored["attributes"] == {"hdop": 0.9}


def test_a_traccar_client_post_with_parameters_in_the_query_and_the_token(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    moment = recent(2).replace(microsecond=0)
    response = httpx.post(
        f"{data_server.url}/v1/fleet/osmand",
        params={
            "token": tenant.api_key,
            "id": "phone-7",
            "timestamp": str(int(moment.timestamp())),
            "lat": "48.137154",
            "lon": "11.576124",
            "speed": "0.0",
            "bearing": "271.5",
            "altitude": "519.0",
            "accuracy": "12.0",
            "batt": "87.0",
            "charge": "true",
            "driverUniqueId": "d-42",
            "ignition": "true",
            "fuel": "42.5",
            "trip": "7",
            "note": "at depot",
        },
        headers=USER_AGENT,
    )
    assert response.status_code == 200, response.text
    stored = only_position(dataplane_database, tenant)
    assert stored["device_time"] == moment
    assert (stored["heading"], stored["accuracy"], stored["battery"]) == (271.5, 12.0, 87.0)
    assert stored["attributes"] == {
        "charge": True,
        "driverUniqueId": "d-42",
        "ignition": True,
        "fuel": 42.5,
        "trip": 7,
        "note": "at depot",
    }  # and never the token


def test_a_form_post_with_iso_and_plain_timestamps(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    iso, plain = recent(10).replace(microsecond=0), recent(5).replace(microsecond=0)
    for vehicle, stamp in [
        ("iso", iso.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("plain", plain.strftime("%Y-%m-%d %H:%M:%S")),
    ]:
        response = httpx.post(
            f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}",
            content=f"id={vehicle}&timestamp={stamp}&location=1.5%2C2.5&heading=360",
            headers={"Content-Type": "application/x-www-form-urlencoded", **USER_AGENT},
        )
        assert response.status_code == 200, response.text
    stored = {row["vehicle"]: row for row in positions(dataplane_database, tenant)}
    assert stored["iso"]["device_time"] == iso
    assert stored["plain"]["device_time"] == plain
    assert (stored["plain"]["latitude"], stored["plain"]["longitude"]) == (1.5, 2.5)
    assert stored["plain"]["heading"] == 0.0


def traccar_client_json(device: str, **location: Any) -> dict[str, Any]:
    """What Traccar Client 9 posts (its background geolocation's location object)."""
    moment = recent(4)
    body: dict[str, Any] = {
        "device_id": device,
        "location": {
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment:%f}"[:3] + "Z",
            "coords": {
                "latitude": 40.416775,
                "longitude": -3.70379,
                "accuracy": 4.8,
                "speed": 13.5,
                "heading": 182.4,
                "altitude": 657.1,
                "ellipsoidal_altitude": 708.2,
            },
            "is_moving": True,
            "uuid": "5b0f64b2-9c7e-4a76-9f1d-2fa8c3b2c0a1",
            "event": "motionchange",
            "odometer": 12042.6,
            "activity": {"type": "in_vehicle", "confidence": 100},
            "battery": {"level": 0.46, "is_charging": True},
            "extras": {"trip": "morning", "load": 3},
            "mock": False,
        },
    }
    body["location"].update(location)
    return body


def test_the_json_that_newer_traccar_clients_post(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    body = traccar_client_json("pixel-8")
    response = httpx.post(
        f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}", json=body, headers=USER_AGENT
    )
    assert response.status_code == 200, response.text
    assert response.content == b""
    stored = only_position(dataplane_database, tenant)
    assert stored["vehicle"] == "pixel-8"
    assert stored["speed"] == pytest.approx(48.6, abs=1e-4)  # 13.5 m/s
    assert stored["heading"] == pytest.approx(182.4, abs=1e-4)
    assert stored["battery"] == 46.0
    assert stored["attributes"] == {
        "trip": "morning",
        "load": 3,
        "event": "motionchange",
        "motion": True,
        "odometer": 12042.6,
        "mock": False,
        "activity": "in_vehicle",
        "charge": True,
    }
    # unknown readings are negative: left out, not stored as such
    unknown = traccar_client_json("pixel-8", battery={"level": -1, "is_charging": False})
    unknown["location"]["coords"].update(speed=-1, heading=-1, accuracy=-1)
    unknown["location"]["timestamp"] = "2026-11-30T10:00:00Z"
    unknown["location"]["timestamp"] = recent(1).isoformat()
    response = httpx.post(
        f"{data_server.url}/v1/fleet/osmand", params={"token": tenant.api_key}, json=unknown
    )
    assert response.status_code == 200, response.text
    newest = positions(dataplane_database, tenant)[-1]
    assert (newest["speed"], newest["heading"], newest["accuracy"], newest["battery"]) == (
        None,
        None,
        None,
        None,
    )


def test_a_position_sent_again_is_still_a_success(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    params = {"id": "again", "lat": "1", "lon": "2", "timestamp": str(int(recent().timestamp()))}
    url = f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}"
    for _ in range(3):
        assert httpx.get(url, params=params).status_code == 200
    assert len(positions(dataplane_database, tenant)) == 1


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"lat": "1", "lon": "2"}, "id"),
        ({"id": "x", "lat": "1"}, "lat and lon"),
        ({"id": "x", "lat": "abc", "lon": "2"}, "lat must be a decimal number"),
        ({"id": "x", "lat": "95", "lon": "2"}, "latitude 95 is outside"),
        ({"id": "x", "lat": "NaN", "lon": "2"}, "lat must be a decimal number"),
        ({"id": "x\x00", "lat": "1", "lon": "2"}, "NUL"),
        ({"id": "x", "lat": "1", "lon": "2", "note\x00": "y"}, "NUL"),
        ({"id": "x", "lat": "1", "lon": "2", "timestamp": "yesterday"}, "timestamp"),
        ({"id": "x", "lat": "1", "lon": "2", "timestamp": "946684700"}, "before 2000"),
        ({"id": "x", "lat": "1", "lon": "2", "speed": "-3"}, "speed"),
        ({}, "send a position"),
    ],
)
def test_bad_input_gets_400_with_the_reason(
    data_server: ServedApp, tenant: ProvisionedTenant, params: dict[str, str], reason: str
) -> None:
    response = httpx.get(f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}", params=params)
    error = assert_clear_error(response, 400)
    assert reason in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[]",
        json.dumps({"location": {}}),
        json.dumps({"device_id": "x"}),
        json.dumps({"device_id": "x", "location": {"timestamp": "2026-01-01T00:00:00Z"}}),
        json.dumps({"device_id": "x", "location": {"coords": {"latitude": 1, "longitude": 2}}}),
        json.dumps(traccar_client_json("x", is_moving="yes")),
        json.dumps(traccar_client_json("x", extras={"k\x00": 1})),
        json.dumps(traccar_client_json("x", battery={"level": 7})),
    ],
)
def test_bad_json_gets_400(data_server: ServedApp, tenant: ProvisionedTenant, body: str) -> None:
    response = httpx.post(
        f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_clear_error(response, 400)


def test_keys_device_keys_and_limits(
    data_server: ServedApp,
    device_key: str,
    limited_tenant: Callable[..., ProvisionedTenant],
) -> None:
    params = {"id": "d", "lat": "1", "lon": "2"}
    assert httpx.get(f"{data_server.url}/v1/fleet/osmand/{device_key}", params=params).is_success
    for url in [
        f"{data_server.url}/v1/fleet/osmand/whs_live_nope",
        f"{data_server.url}/v1/fleet/osmand",
        f"{data_server.url}/v1/fleet/osmand?token={device_key[:-1]}x",
    ]:
        assert_clear_error(httpx.get(url, params=params), 401)
    capped = limited_tenant(vehicle_limit=1)
    url = f"{data_server.url}/v1/fleet/osmand/{capped.api_key}"
    assert httpx.get(url, params=params).status_code == 200
    error = assert_clear_error(httpx.get(url, params={**params, "id": "e"}), 403)
    assert error["code"] == "vehicle_limit_reached"


def test_past_the_point_rate_a_tracker_is_told_when_to_come_back(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    slow = limited_tenant(gps_points_per_second=2)
    # a backlog of 40 points is taken whole; the bucket is then 38 points in debt
    with api_client(data_server.url, slow.api_key) as client:
        assert send(client, track("t", 40))["accepted"] == 40
    refused = httpx.get(
        f"{data_server.url}/v1/fleet/osmand/{slow.api_key}",
        params={"id": "t", "lat": "1", "lon": "2"},
    )
    error = assert_clear_error(refused, 429)
    assert error["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 19


PARAMETER_NAMES = ["id", "lat", "lon", "timestamp", "speed", "bearing", "batt", "location", "hdop"]


@OVER_HTTP
@given(
    parameters=st.dictionaries(
        st.sampled_from(PARAMETER_NAMES) | st.text(max_size=8),
        st.text(max_size=24) | st.floats().map(str) | st.integers().map(str),
        max_size=8,
    ),
    as_form=st.booleans(),
)
def test_generated_parameters_are_stored_or_refused_never_failed(
    data_server: ServedApp, tenant: ProvisionedTenant, parameters: dict[str, str], as_form: bool
) -> None:
    url = f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}"
    response = httpx.post(url, data=parameters) if as_form else httpx.get(url, params=parameters)
    if response.status_code != 200:
        assert_clear_error(response)


@OVER_HTTP
@given(
    change=st.tuples(
        st.sampled_from(["timestamp", "coords", "battery", "extras", "activity", "odometer"]),
        json_values(max_leaves=4) | st.floats(),
    )
)
def test_generated_json_is_stored_or_refused_never_failed(
    data_server: ServedApp, tenant: ProvisionedTenant, change: tuple[str, Any]
) -> None:
    body = traccar_client_json("generated", **dict([change]))
    response = httpx.post(
        f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    if response.status_code != 200:
        assert_clear_error(response)
