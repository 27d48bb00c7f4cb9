"""Who may read fleet data: the tenant's full keys only, and never another tenant's data."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.data.fleet.fleets import NOW
from tests.data.fleet.positions import Fix, FleetDatabase, Vehicle
from tests.support.bad_input import assert_clear_error
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.data.tenancy import management
from webhost.data.tenancy.scope import Tenant
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.security.api_keys import generate_api_key

SQUARE = [[0, 0], [2, 0], [2, 2], [0, 2]]
READS = [
    ("GET", "/v1/fleet/latest", None),
    ("GET", "/v1/fleet/vehicles/van/track", None),
    ("GET", "/v1/fleet/vehicles/van/reports/trips", None),
    ("GET", "/v1/fleet/vehicles/van/reports/stops", None),
    ("GET", "/v1/fleet/vehicles/van/reports/summary", None),
    ("GET", "/v1/fleet/near?lat=1&lon=1&radius_m=1000", None),
    ("GET", "/v1/fleet/nearest?lat=1&lon=1", None),
    ("GET", "/v1/fleet/positions/box?min_lat=0&min_lon=0&max_lat=2&max_lon=2", None),
    ("POST", "/v1/fleet/positions/within", {"polygon": SQUARE}),
    ("GET", "/v1/fleet/geofences", None),
    ("POST", "/v1/fleet/geofences", {"name": "g", "polygon": SQUARE}),
    ("GET", "/v1/fleet/geofences/1", None),
    ("PATCH", "/v1/fleet/geofences/1", {"name": "h"}),
    ("GET", "/v1/fleet/geofences/1/positions", None),
    ("DELETE", "/v1/fleet/geofences/1", None),
]


def device_key(database: PostgresURL, tenant: Tenant) -> str:
    """A key of scope ``ingest``, as a device that only sends positions holds."""
    key = generate_api_key()

    async def publish() -> None:
        engine = create_engine(database, pool_size=1)
        try:
            async with engine.begin() as connection:
                await management.publish_key(
                    connection, tenant.id, key.prefix, key.secret_digest, scope="ingest"
                )
        finally:
            await engine.dispose()

    asyncio.run(publish())
    return key.full_key


def test_another_tenant_sees_nothing(
    data_server: ServedApp,
    fleet: FleetDatabase,
    tenant: ProvisionedTenant,
    other_tenant: ProvisionedTenant,
) -> None:
    fleet.add_vehicles(
        tenant.tenant,
        [
            Vehicle(
                "van", "", [Fix(NOW - timedelta(minutes=m), 1.0, 1.0, speed=50) for m in range(5)]
            )
        ],
    )
    with api_client(data_server.url, tenant.api_key) as owner:
        fence = owner.post("/v1/fleet/geofences", json={"name": "g", "polygon": SQUARE}).json()
        assert len(owner.get("/v1/fleet/latest").json()) == 1
    with api_client(data_server.url, other_tenant.api_key) as intruder:
        assert intruder.get("/v1/fleet/latest").json() == []
        for kind in ("track", "reports/trips", "reports/summary"):
            assert_clear_error(intruder.get(f"/v1/fleet/vehicles/van/{kind}"), 404)
        near = {"lat": 1, "lon": 1, "radius_m": 20_000_000}
        assert intruder.get("/v1/fleet/near", params=near).json() == []
        assert intruder.get("/v1/fleet/nearest", params={"lat": 1, "lon": 1}).json() == []
        box = {"min_lat": -90, "min_lon": -180, "max_lat": 90, "max_lon": 180}
        assert intruder.get("/v1/fleet/positions/box", params=box).json()["positions"] == []
        within = intruder.post("/v1/fleet/positions/within", json={"polygon": SQUARE}).json()
        assert within["positions"] == []
        assert intruder.get("/v1/fleet/geofences").json() == []
        path = f"/v1/fleet/geofences/{fence['id']}"
        assert_clear_error(intruder.get(path), 404)
        assert_clear_error(intruder.get(f"{path}/positions"), 404)
        assert_clear_error(intruder.patch(path, json={"name": "mine"}), 404)
        assert_clear_error(intruder.delete(path), 404)
    with api_client(data_server.url, tenant.api_key) as owner:
        assert owner.get(f"/v1/fleet/geofences/{fence['id']}").json() == fence


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_device_keys_and_strangers_are_refused(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    method: str,
    path: str,
    body: object,
) -> None:
    with api_client(data_server.url, device_key(dataplane_database, tenant.tenant)) as device:
        assert_clear_error(device.request(method, path, json=body), 403)
    with api_client(data_server.url) as stranger:
        assert_clear_error(stranger.request(method, path, json=body), 401)
