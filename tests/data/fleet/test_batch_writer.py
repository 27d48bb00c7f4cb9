"""The batch writer: requests of a tenant stored together, each answered for its own points;
keys checked again as they store; storage that goes away answered with "busy, send again"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.data.fleet.tracking import recent
from tests.data.yjs.planes import StartPlane
from tests.support.database import ProvisionedTenant
from tests.support.inspect import query
from tests.support.polling import wait_until
from tests.support.proxy import Mode, database_proxy
from tests.support.servers import ServedApp
from webhost.data.app import create_data_app
from webhost.data.fleet.ingest_service import IngestResult
from webhost.data.fleet.points import Position
from webhost.data.plane import DataPlane
from webhost.data.tenancy.management import CATALOGUE_SCHEMA
from webhost.db.urls import PostgresURL

START = recent(minutes_ago=30)


def position(vehicle: str, seconds: int, latitude: float = 52.5) -> Position:
    return Position(
        vehicle=vehicle,
        device_time=START + timedelta(seconds=seconds),
        latitude=latitude,
        longitude=13.4,
    )


def osmand(url: str, key: str, seconds: int, device: str = "phone-1") -> httpx.Response:
    moment = recent(minutes_ago=20) + timedelta(seconds=seconds)
    return httpx.get(
        f"{url}/v1/fleet/osmand/{key}",
        params={"id": device, "lat": "52.5", "lon": "13.4", "timestamp": moment.isoformat()},
    )


def counts(result: IngestResult) -> tuple[int, int, list[Any]]:
    return result.accepted, result.duplicates, result.rejected


def test_requests_that_wait_for_a_group_share_its_transaction_and_get_their_own_answers(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    started = start_plane()
    plane = started.plane

    async def scenario() -> tuple[IngestResult, IngestResult, IngestResult]:
        caller = await plane.authenticate_sender(tenant.api_key)
        await plane.position_ingest.ingest(caller, [position("bus-1", 0)])
        # no await before they join the writer's queue: the three go in one group
        return await asyncio.gather(
            plane.position_ingest.ingest(caller, [position("bus-1", 1), position("bus-2", 1)]),
            plane.position_ingest.ingest(
                caller, [position("bus-2", 1, 53.0), position("bus-3", 2)]
            ),
            plane.position_ingest.ingest(caller, [position("bus-1", 0)]),
        )

    first, second, third = started.served.call(scenario())
    assert counts(first) == (2, 0, [])
    assert counts(second) == (1, 1, [])  # bus-2's point came first in the first request
    assert counts(third) == (0, 1, [])  # stored before
    rows = query(
        dataplane_database,
        "SELECT v.identifier, p.latitude, p.server_time "
        f'FROM "{tenant.tenant.name}".fleet_positions p '
        f'JOIN "{tenant.tenant.name}".fleet_vehicles v ON v.id = p.vehicle_id '
        "ORDER BY p.device_time, v.identifier",
    )
    assert [(identifier, latitude) for identifier, latitude, _ in rows] == [
        ("bus-1", 52.5),
        ("bus-1", 52.5),
        ("bus-2", 52.5),
        ("bus-3", 52.5),
    ]
    # now() is the time its transaction began: the three requests' points share one
    assert len({server_time for _, _, server_time in rows[1:]}) == 1
    assert rows[0][2] < rows[1][2]


@pytest.mark.parametrize(
    "change",
    [
        f"UPDATE {CATALOGUE_SCHEMA}.api_keys SET revoked_at = now() WHERE prefix = $1",
        f"UPDATE {CATALOGUE_SCHEMA}.tenants SET status = 'suspended' "
        f"WHERE id = (SELECT tenant_id FROM {CATALOGUE_SCHEMA}.api_keys WHERE prefix = $1)",
    ],
    ids=["key revoked", "tenant suspended"],
)
def test_a_key_refused_while_it_is_cached_is_refused_at_the_next_write(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant, change: str
) -> None:
    started = start_plane()
    assert osmand(started.served.url, tenant.api_key, 1).status_code == 200
    # without the notice that drops cached keys: as if it had not arrived yet
    query(dataplane_database, change, tenant.key_prefix)
    assert started.plane.sender_keys.get(tenant.key_prefix) is not None
    refused = osmand(started.served.url, tenant.api_key, 2)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "invalid or revoked API key"
    assert query(
        dataplane_database, f'SELECT count(*) FROM "{tenant.tenant.name}".fleet_positions'
    ) == [(1,)]
    assert started.plane.sender_keys.get(tenant.key_prefix) is None


def test_the_revocation_notice_drops_a_cached_key(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    started = start_plane()
    assert osmand(started.served.url, tenant.api_key, 1).status_code == 200
    assert started.plane.sender_keys.get(tenant.key_prefix) is not None
    query(
        dataplane_database,
        f"UPDATE {CATALOGUE_SCHEMA}.api_keys SET revoked_at = now() WHERE prefix = $1",
        tenant.key_prefix,
    )
    query(dataplane_database, "SELECT pg_notify('webhost_key_revoked', $1)", tenant.key_prefix)
    wait_until(lambda: started.plane.sender_keys.get(tenant.key_prefix) is None)


def test_storage_that_goes_away_is_answered_busy_and_what_is_sent_again_is_stored(
    dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    proxy, through = database_proxy(dataplane_database)

    async def build() -> Any:
        return create_data_app(DataPlane(through, pool_size=2))

    served = ServedApp(build).start()
    try:
        assert osmand(served.url, tenant.api_key, 1).status_code == 200
        proxy.switch(Mode.OFFLINE)
        busy = osmand(served.url, tenant.api_key, 2)
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert "send it again" in busy.json()["error"]["message"]
        proxy.switch(Mode.PASS)
        wait_until(lambda: osmand(served.url, tenant.api_key, 2).status_code == 200)
    finally:
        served.stop()
        proxy.stop()
    stored = query(
        dataplane_database, f'SELECT count(*) FROM "{tenant.tenant.name}".fleet_positions'
    )
    assert stored == [(2,)]


def test_in_a_group_the_vehicle_limit_refuses_each_request_its_own_points(
    start_plane: StartPlane, limited_tenant: Callable[..., ProvisionedTenant]
) -> None:
    tenant = limited_tenant(vehicle_limit=2)
    started = start_plane()
    plane = started.plane

    async def scenario() -> tuple[IngestResult, IngestResult, IngestResult]:
        caller = await plane.authenticate_sender(tenant.api_key)
        return await asyncio.gather(
            plane.position_ingest.ingest(caller, [position("car-1", 1)]),
            plane.position_ingest.ingest(caller, [position("car-1", 2), position("car-2", 2)]),
            plane.position_ingest.ingest(
                caller, [position("car-1", 3), position("car-3", 3), position("car-2", 3)]
            ),
        )

    first, second, third = started.served.call(scenario())
    assert counts(first) == (1, 0, [])
    assert counts(second) == (2, 0, [])
    assert (third.accepted, third.duplicates) == (2, 0)
    assert [(r.index, r.vehicle, r.code) for r in third.rejected] == [
        (1, "car-3", "vehicle_limit_reached")
    ]


def test_a_thousand_requests_at_once_are_each_answered_for_their_point(
    start_plane: StartPlane, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    started = start_plane()
    plane = started.plane

    async def scenario() -> list[IngestResult]:
        caller = await plane.authenticate_sender(tenant.api_key)
        return await asyncio.gather(
            *(
                plane.position_ingest.ingest(caller, [position(f"phone-{n % 40}", n)])
                for n in range(1000)
            )
        )

    answers = started.served.call(scenario(), timeout=120)
    assert [counts(answer) for answer in answers] == [(1, 0, [])] * 1000
    transactions = query(
        dataplane_database,
        f'SELECT count(*), count(DISTINCT server_time) FROM "{tenant.tenant.name}".fleet_positions',
    )
    stored, groups = transactions[0]
    assert stored == 1000
    assert groups == 1  # all of them joined the queue before its first group was taken
