from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import event

from tests.data.yjs.planes import StartPlane
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant, add_key, revoke_key
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL


def test_requests_without_a_key_are_refused(data_server: ServedApp) -> None:
    response = httpx.get(f"{data_server.url}/v1/collections")
    assert response.status_code == 401
    assert "missing API key" in response.json()["error"]["message"]


def test_malformed_and_unknown_keys_are_refused(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    for key in ["nonsense", "whs_live_AAAAAAAAAAAA_" + "B" * 32, tenant.api_key[:-1] + "x"]:
        response = httpx.get(
            f"{data_server.url}/v1/collections", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 401, key


def test_revoked_key_is_refused_on_the_next_request(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    key, prefix = add_key(dataplane_database, tenant.tenant)
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{data_server.url}/v1/collections", headers=headers).status_code == 200
    revoke_key(dataplane_database, prefix)
    assert httpx.get(f"{data_server.url}/v1/collections", headers=headers).status_code == 401


def test_a_request_takes_one_pool_connection_for_its_key_and_its_data(
    start_plane: StartPlane, tenant: ProvisionedTenant
) -> None:
    started = start_plane()
    checkouts: list[str] = []

    def checked_out(*_args: object) -> None:
        task = asyncio.current_task()
        checkouts.append(task.get_name() if task else "")

    event.listen(started.plane.engine.sync_engine.pool, "checkout", checked_out)
    with api_client(started.served.url, tenant.api_key) as client:
        assert client.get("/v1/collections").status_code == 200
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        assert client.post("/v1/collections/notes/records", json={"id": "a"}).status_code == 201
    # the plane's periodic work (fleet maintenance visits every tenant) is not the requests'
    background = {"fleet maintenance", "sync compaction"}
    assert len([name for name in checkouts if name not in background]) == 3
