"""Generated garbage mixed into batches: never a server error, never a valid point lost."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.data.fleet.tracking import as_tenant, point, post_json, recent
from tests.support.bad_input import OVER_HTTP, json_values, nul_strings
from tests.support.database import ProvisionedTenant
from webhost.db.urls import PostgresURL

FIELDS = ("vehicle", "time", "latitude", "longitude", "speed", "heading", "battery", "attributes")


def garbage() -> st.SearchStrategy[Any]:
    """Items that are mostly not points: any JSON, and points with one field replaced."""
    odd_values = (
        json_values(max_leaves=4)
        | nul_strings()
        | st.floats()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.sampled_from(["", "2024-13-45T00:00:00Z", "NaN", 1e11, -1, 360, 1e39])
    )
    spoiled = st.tuples(st.sampled_from(FIELDS), odd_values).map(
        lambda change: {**point("odd"), change[0]: change[1]}
    )
    return json_values(max_leaves=6) | spoiled


@OVER_HTTP
@given(
    items=st.lists(st.tuples(st.booleans(), garbage()), max_size=30),
)
def test_garbage_never_fails_the_batch_or_costs_its_valid_points(
    client: httpx.Client,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    items: list[tuple[bool, Any]],
) -> None:
    vehicle = f"keep-{uuid.uuid4().hex[:12]}"
    start = recent(30)
    batch: list[Any] = []
    valid = 0
    for keep, junk in items:
        if keep:
            batch.append(point(vehicle, start + timedelta(seconds=valid)))
            valid += 1
        else:
            batch.append(junk)
    response = post_json(client, "/v1/fleet/positions", batch)
    assert response.status_code == 200, response.text[:1000]
    answer = response.json()
    assert answer["accepted"] + answer["duplicates"] + len(answer["rejected"]) == len(batch)
    assert all(rejected["reason"] for rejected in answer["rejected"])
    stored = as_tenant(
        dataplane_database,
        tenant,
        "SELECT count(*) AS n FROM fleet_positions p JOIN fleet_vehicles v "
        "ON v.id = p.vehicle_id WHERE v.identifier = $1",
        vehicle,
    )
    assert stored[0]["n"] == valid
