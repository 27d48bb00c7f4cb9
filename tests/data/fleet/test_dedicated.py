"""Positions reach a dedicated deployment's own database, whose PUBLIC is granted nothing:
the tenant may still stage its batches in temporary tables there."""

from __future__ import annotations

from collections.abc import Callable

from tests.data.fleet.tracking import send, track
from tests.support.clients import api_client
from tests.support.factories import Customer, create_key
from tests.support.platform import wait_for_deployment


def test_a_dedicated_deployment_takes_positions(signup: Callable[..., Customer]) -> None:
    customer = signup("professional")
    deployment = wait_for_deployment(customer.client, customer.deployment["id"])
    key = create_key(customer)["key"]
    with api_client(deployment["api_url"], key) as data:
        points = track("truck-1", 50)
        assert send(data, points)["accepted"] == 50
        assert send(data, points)["duplicates"] == 50
        vehicles = data.get("/v1/fleet/vehicles").json()
        assert [vehicle["identifier"] for vehicle in vehicles] == ["truck-1"]
