"""POST /v1/fleet/positions: batches stored through COPY, duplicates dropped, bad points
reported one by one while the rest of the batch is kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.data.fleet.tracking import (
    latest,
    point,
    positions,
    recent,
    rfc3339,
    send,
    send_ndjson,
    table_holding,
    track,
)
from tests.support.bad_input import assert_clear_error
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL


def test_a_json_batch_is_stored_and_acknowledged(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    points = track("truck-1", 50) + track("van-2", 30)
    assert send(client, points) == {"accepted": 80, "duplicates": 0, "rejected": []}
    stored = positions(dataplane_database, tenant)
    assert len(stored) == 80
    first = stored[0]
    assert first["vehicle"] == "truck-1"
    assert rfc3339(first["device_time"]) == points[0]["time"]
    assert (first["latitude"], first["longitude"], first["speed"]) == (48.0, 11.0, 36.0)
    vehicles = client.get("/v1/fleet/vehicles").json()
    assert sorted(vehicle["identifier"] for vehicle in vehicles) == ["truck-1", "van-2"]


def test_an_ndjson_batch_is_stored_and_a_bad_line_costs_only_itself(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    lines = [json.dumps(p) for p in track("bike", 5)]
    lines.insert(2, '{"vehicle": "bike", "time": ')
    lines.insert(4, "")  # blank lines are skipped
    response = send_ndjson(client, lines)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 5
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(2, "invalid_point")]
    assert "not valid JSON" in answer["rejected"][0]["reason"]
    assert len(positions(dataplane_database, tenant)) == 5


def test_a_retried_batch_stores_nothing_twice(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    points = track("truck-1", 20)
    assert send(client, points)["accepted"] == 20
    assert send(client, points) == {"accepted": 0, "duplicates": 20, "rejected": []}
    # the same vehicle and device time twice in one batch: the first is kept
    again = point("truck-1", recent(1), latitude=1.0)
    twin = {**again, "latitude": 2.0}
    assert send(client, [again, twin]) == {"accepted": 1, "duplicates": 1, "rejected": []}
    stored = positions(dataplane_database, tenant)
    assert len(stored) == 21
    assert stored[-1]["latitude"] == 1.0


def test_a_late_point_lands_in_the_table_of_its_own_week(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    now = datetime.now(UTC)
    late = (now - timedelta(days=45)).replace(microsecond=0)
    answer = send(client, [point("truck-1", now - timedelta(minutes=1)), point("truck-1", late)])
    assert answer["accepted"] == 2
    where = {row["device_time"]: row["partition"] for row in positions(dataplane_database, tenant)}
    assert where[late] == table_holding(dataplane_database, tenant, late)
    assert len(set(where.values())) == 2
    # the vehicle's latest position is the newest point, not the late one
    assert latest(dataplane_database, tenant)["truck-1"]["device_time"] > late


def test_the_latest_position_only_moves_forward(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    newer, older = recent(1), recent(30)
    send(client, [point("car", newer, latitude=10.0), point("car", recent(2), latitude=11.0)])
    send(client, [point("car", older, latitude=20.0)])
    assert latest(dataplane_database, tenant)["car"]["latitude"] == 10.0
    send(client, [point("car", recent(0.5), latitude=30.0)])
    assert latest(dataplane_database, tenant)["car"]["latitude"] == 30.0


def test_bad_points_are_rejected_with_their_reason_and_the_rest_kept(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    now = datetime.now(UTC)
    bad = {
        1: (point(latitude=90.5), "latitude 90.5 is outside -90 to 90"),
        2: (point(longitude=-180.01), "longitude -180.01 is outside -180 to 180"),
        3: (point(time=rfc3339(now + timedelta(days=2))), "more than a day ahead"),
        4: (point(time="1999-12-31T23:59:59Z"), "before 2000-01-01"),
        5: (point(heading=360.5), "heading 360.5 is outside 0 to 360"),
        6: (point(speed=-1), "speed -1 is outside"),
        7: (point(battery=101), "battery 101 is outside 0 to 100"),
        8: (point(vehicle="a\x00b"), "NUL"),
        9: (point(attributes={"k\x00": 1}), "NUL"),
        10: (point(latitude="52.5"), "latitude must be a number"),
        11: (point(time="2024-05-01T10:00:00"), "needs an offset"),
        12: (point(time=True), "time must be RFC 3339 text or an epoch number"),
        13: (point(colour="red"), 'unknown field "colour"'),
        14: ([1, 2], "a point is a JSON object"),
        15: (point(vehicle=""), "identifiers have 1 to 128"),
        16: (point(vehicle="a/b"), "'/'"),
        17: (point(attributes=[1]), "attributes must be a JSON object"),
        18: (point(time="soon"), "not an RFC 3339 date-time"),
    }
    batch = [point("good", recent(3))] + [item for item, _ in bad.values()]
    batch.append(point("good", recent(2), heading=360))
    answer = send(client, batch)
    assert answer["accepted"] == 2
    reasons = {rejected["index"]: rejected["reason"] for rejected in answer["rejected"]}
    assert sorted(reasons) == sorted(bad)
    for index, (_, expected) in bad.items():
        assert expected in reasons[index], (index, reasons[index])
    vehicles = {r["index"]: r["vehicle"] for r in answer["rejected"]}
    assert vehicles[1] == "truck-1"
    assert vehicles[8] is None  # an identifier that cannot be one is not echoed
    stored = positions(dataplane_database, tenant)
    assert [row["heading"] for row in stored] == [None, 0.0]  # 360 is north


def test_nan_and_infinity_are_rejected_point_by_point(client: httpx.Client) -> None:
    body = (
        "["
        + ",".join(
            [
                json.dumps(point("a", recent(3))),
                '{"vehicle": "a", "time": 1700000000, "latitude": NaN, "longitude": 1}',
                '{"vehicle": "a", "time": 1700000000, "latitude": 1, "longitude": Infinity}',
                '{"vehicle": "a", "time": 1e400, "latitude": 1, "longitude": 1}',
            ]
        )
        + "]"
    )
    response = client.post(
        "/v1/fleet/positions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    reasons = [r["reason"] for r in answer["rejected"]]
    assert reasons[0] == "latitude must be a finite number"
    assert reasons[1] == "longitude must be a finite number"
    assert reasons[2] == "time must be a finite number"


def test_epoch_seconds_and_milliseconds_are_told_apart(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    moment = recent(10)
    seconds = moment.timestamp()
    send(client, [point("s", seconds), point("ms", int(seconds * 1000)), point("f", seconds + 0.5)])
    times = {row["vehicle"]: row["device_time"] for row in positions(dataplane_database, tenant)}
    assert times["s"] == moment
    assert times["ms"] == moment
    assert times["f"] == moment + timedelta(seconds=0.5)


def test_the_retention_of_the_plan_bounds_how_old_a_point_may_be(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    tenant = limited_tenant(retention_days=7)
    with api_client(data_server.url, tenant.api_key) as client:
        answer = send(client, [point(time=recent(60 * 24 * 8)), point(time=recent(60 * 24 * 6))])
    assert answer["accepted"] == 1
    assert "retention of 7 days" in answer["rejected"][0]["reason"]


def test_points_of_unknown_vehicles_past_the_vehicle_limit_are_rejected(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    limited_tenant: Callable[..., ProvisionedTenant],
) -> None:
    tenant = limited_tenant(vehicle_limit=2)
    with api_client(data_server.url, tenant.api_key) as client:
        batch = [point("a", recent(4)), point("b", recent(4)), point("c", recent(4))]
        batch.append(point("a", recent(3)))
        answer = send(client, batch)
        assert answer["accepted"] == 3
        assert [(r["index"], r["vehicle"], r["code"]) for r in answer["rejected"]] == [
            (2, "c", "vehicle_limit_reached")
        ]
        assert "at most 2 vehicles" in answer["rejected"][0]["reason"]
        # known vehicles keep sending; a new one is refused
        answer = send(client, [point("b", recent(2)), point("d", recent(2))])
        assert answer["accepted"] == 1
        assert answer["rejected"][0]["vehicle"] == "d"
        assert client.delete("/v1/fleet/vehicles/a").status_code == 204
        assert send(client, [point("d", recent(1))])["accepted"] == 1


def test_more_than_ten_thousand_points_are_refused_whole(
    client: httpx.Client, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    points = track("bus", 10_001)
    error = assert_clear_error(client.post("/v1/fleet/positions", json=points), 413)
    assert "at most 10000" in error["message"]
    lines = [json.dumps(p) for p in points]
    assert_clear_error(send_ndjson(client, lines), 413)
    assert positions(dataplane_database, tenant) == []
    # exactly the limit, with attributes, fits in the batch body limit
    full = [{**p, "attributes": {"ignition": True, "driver": "d-17"}} for p in points[:10_000]]
    assert send(client, full)["accepted"] == 10_000


def test_unreadable_bodies_get_clear_errors(client: httpx.Client) -> None:
    cases = [
        (b"", "application/json", 400),
        (b"{", "application/json", 400),
        (b'{"points": []}', "application/json", 422),
        (b"\xff\xfe", "application/json", 400),
        (b"[]", "text/csv", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 422),
    ]
    for body, content_type, status in cases:
        response = client.post(
            "/v1/fleet/positions", content=body, headers={"Content-Type": content_type}
        )
        assert_clear_error(response, status)
    assert send(client, []) == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_deeply_nested_attributes_are_rejected(client: httpx.Client) -> None:
    nested: dict[str, object] = {}
    for _ in range(70):
        nested = {"k": nested}
    answer = send(client, [point(attributes=nested), point(attributes={"big": "x" * 9000})])
    assert answer["accepted"] == 0
    assert "more than 64 levels" in answer["rejected"][0]["reason"]
    assert "bytes" in answer["rejected"][1]["reason"]


def test_a_device_key_sends_positions_but_reads_nothing(
    data_server: ServedApp, device_key: str, tenant: ProvisionedTenant
) -> None:
    with api_client(data_server.url, device_key) as device:
        assert send(device, track("phone", 3))["accepted"] == 3
        for path in ("/v1/collections", "/v1/fleet/vehicles", "/v1/sync"):
            assert_clear_error(device.get(path), 403)
    with api_client(data_server.url, tenant.api_key) as owner:
        assert owner.get("/v1/fleet/vehicles/phone").status_code == 200


def test_one_tenants_positions_and_vehicles_are_invisible_to_another(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    other_tenant: ProvisionedTenant,
) -> None:
    with api_client(data_server.url, tenant.api_key) as mine:
        send(mine, track("shared-name", 4))
    with api_client(data_server.url, other_tenant.api_key) as theirs:
        assert theirs.get("/v1/fleet/vehicles").json() == []
        assert_clear_error(theirs.get("/v1/fleet/vehicles/shared-name"), 404)
        assert send(theirs, track("shared-name", 4))["accepted"] == 4  # their own vehicle
    assert len(positions(dataplane_database, tenant)) == 4
    assert len(positions(dataplane_database, other_tenant)) == 4


def test_a_request_without_a_key_is_refused(data_server: ServedApp) -> None:
    response = httpx.post(f"{data_server.url}/v1/fleet/positions", json=[point()])
    assert_clear_error(response, 401)


def test_concurrent_batches_never_pass_the_vehicle_limit_together(
    data_server: ServedApp, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    tenant = limited_tenant(vehicle_limit=5)
    moment = recent(2)

    def batch(number: int) -> dict[str, Any]:
        points = [point(f"v{number}-{n}", moment) for n in range(3)] + [point("same", moment)]
        with api_client(data_server.url, tenant.api_key) as client:
            return send(client, points)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(batch, range(8)))
    with api_client(data_server.url, tenant.api_key) as client:
        vehicles = {vehicle["identifier"] for vehicle in client.get("/v1/fleet/vehicles").json()}
    assert len(vehicles) == 5
    stored = sum(answer["accepted"] for answer in answers)
    assert stored == len(vehicles)  # one point each; "same" sent again is a duplicate
    refused = [r for answer in answers for r in answer["rejected"]]
    assert {r["code"] for r in refused} == {"vehicle_limit_reached"}
    assert not {r["vehicle"] for r in refused} & vehicles
    duplicates = sum(answer["duplicates"] for answer in answers)
    assert stored + duplicates + len(refused) == 8 * 4
