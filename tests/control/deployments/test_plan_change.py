"""A deployment changes plan in place within its mode; a smaller plan that cannot hold its data
is refused up front with what to remove."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.inspect import query
from tests.support.platform import PlatformThread, wait_for_deployment
from webhost.data.tenancy.scope import tenant_name_for

SignUp = Callable[..., Customer]
DIRECTORY = "webhost_dataplane.tenants"


def directory_limits(platform: PlatformThread, deployment_id: str) -> tuple[int, int]:
    assert platform.runtime is not None
    assert platform.runtime.platform is not None
    tenant = tenant_name_for(uuid.UUID(deployment_id))
    database = platform.runtime.platform.server.with_database(f"wh_{tenant}")
    [(vehicles, retention)] = query(
        database, f"SELECT vehicle_limit, retention_days FROM {DIRECTORY}"
    )
    return vehicles, retention


def send_positions(api_url: str, key: str, vehicles: int, *, age: timedelta) -> None:
    at = (datetime.now(UTC) - age).isoformat()
    points = [
        {"vehicle": f"TRK-{number:03d}", "time": at, "latitude": 52.5, "longitude": 13.4}
        for number in range(vehicles)
    ]
    with api_client(api_url, key) as data:
        response = data.post("/v1/fleet/positions", json=points)
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == vehicles


def test_a_plan_of_the_same_mode_changes_limits_in_place(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup("professional")
    before = wait_for_deployment(customer.client, customer.deployment["id"])
    assert directory_limits(platform, before["id"]) == (100, 365)
    response = customer.client.post(
        f"/api/deployments/{before['id']}/plan", json={"plan": "business"}
    )
    assert response.status_code == 202, response.text
    after = response.json()
    assert after["plan"] == "business"
    assert (after["api_url"], after["sync_url"]) == (before["api_url"], before["sync_url"])
    assert directory_limits(platform, before["id"]) == (500, 730)


def test_a_smaller_plan_is_refused_with_what_to_remove(
    platform: PlatformThread, signup: SignUp
) -> None:
    customer = signup("professional")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    key = create_key(customer)["key"]
    send_positions(deployment["api_url"], key, 30, age=timedelta(days=200))
    path = f"/api/deployments/{deployment['id']}/plan"
    too_many = customer.client.post(path, json={"plan": "starter"})
    assert too_many.status_code == 409, too_many.text
    assert (
        "allows 25 vehicles and this deployment has 30: delete 5"
        in (too_many.json()["error"]["message"])
    )
    assert (
        customer.client.get(f"/api/deployments/{deployment['id']}").json()["plan"] == "professional"
    )
    assert directory_limits(platform, deployment["id"]) == (100, 365)


def test_old_positions_are_dropped_only_when_the_customer_confirms(signup: SignUp) -> None:
    customer = signup("business")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    key = create_key(customer)["key"]
    send_positions(deployment["api_url"], key, 3, age=timedelta(days=400))
    path = f"/api/deployments/{deployment['id']}/plan"
    refused = customer.client.post(path, json={"plan": "professional"})
    assert refused.status_code == 409
    assert '"confirm_trim": true' in refused.json()["error"]["message"]
    confirmed = customer.client.post(path, json={"plan": "professional", "confirm_trim": True})
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.json()["plan"] == "professional"


def test_changes_that_cannot_happen_in_place_are_refused_clearly(signup: SignUp) -> None:
    customer = signup("hobby")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    path = f"/api/deployments/{deployment['id']}/plan"
    same = customer.client.post(path, json={"plan": "hobby"})
    assert same.status_code == 409
    assert "already on the hobby plan" in same.json()["error"]["message"]
    unknown = customer.client.post(path, json={"plan": "nonexistent"})
    assert unknown.status_code == 422
    assert customer.client.post(path, json={"plan": 3}).status_code == 422
    assert customer.client.post(path, json={}).status_code == 422
    stranger = signup("hobby")
    assert stranger.client.post(path, json={"plan": "hobby"}).status_code == 404
