"""A suspended tenant is answered 402 with the control plane's message, a held (moving) one 503
with Retry-After; both on every way in, and only to holders of a valid key. Nothing is lost."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.data.yjs.peers import WirePeer
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant, set_serving_state
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL

UNPAID = "payment failed on 2026-12-01; update the card in the billing portal"


def test_a_suspended_tenant_gets_402_with_the_reason_and_keeps_its_data(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    with api_client(data_server.url, tenant.api_key) as client:
        assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
        assert client.post("/v1/collections/notes/records", json={"id": "kept"}).status_code == 201
        set_serving_state(dataplane_database, tenant.tenant, "suspended", UNPAID)
        for response in (
            client.get("/v1/collections/notes/records"),
            client.post("/v1/collections/notes/records", json={"id": "refused"}),
            client.post("/v1/fleet/positions", json=[]),
        ):
            assert response.status_code == 402, response.text
            assert response.json()["error"] == {"code": "deployment_suspended", "message": UNPAID}
        set_serving_state(dataplane_database, tenant.tenant, "active")
        records = client.get("/v1/collections/notes/records")
        assert records.status_code == 200
        assert [record["id"] for record in records.json()] == ["kept"]


def test_a_held_tenant_gets_503_with_retry_after(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    set_serving_state(dataplane_database, tenant.tenant, "held")
    with api_client(data_server.url, tenant.api_key) as client:
        response = client.get("/v1/collections")
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert "moving" in response.json()["error"]["message"]
        osmand = httpx.get(
            f"{data_server.url}/v1/fleet/osmand/{tenant.api_key}",
            params={"id": "phone", "lat": "52.5", "lon": "13.4", "timestamp": "1764547200"},
        )
        assert osmand.status_code == 503, osmand.text
        set_serving_state(dataplane_database, tenant.tenant, "active")
        assert client.get("/v1/collections").status_code == 200


@pytest.mark.parametrize(("state", "status"), [("suspended", 402), ("held", 503)])
def test_sockets_are_refused_at_the_handshake(
    data_server: ServedApp,
    dataplane_database: PostgresURL,
    tenant: ProvisionedTenant,
    state: str,
    status: int,
) -> None:
    set_serving_state(dataplane_database, tenant.tenant, state, "not now")
    with pytest.raises(InvalidStatus) as refused:
        WirePeer.connect(data_server.ws_url, "a-document", tenant.api_key)
    assert refused.value.response.status_code == status


def test_open_sockets_are_closed_when_the_tenant_is_suspended(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    peer = WirePeer.connect(data_server.ws_url, "closing", tenant.api_key).wait_synced()
    try:
        set_serving_state(dataplane_database, tenant.tenant, "suspended", UNPAID)
        assert peer.wait_closed() >= 4000  # closed by the plane, not by the network
    finally:
        peer.close()


def test_strangers_learn_nothing_of_the_state(
    data_server: ServedApp, dataplane_database: PostgresURL, tenant: ProvisionedTenant
) -> None:
    set_serving_state(dataplane_database, tenant.tenant, "suspended", UNPAID)
    wrong = tenant.api_key[:-1] + ("x" if tenant.api_key[-1] != "x" else "y")
    response = httpx.get(
        f"{data_server.url}/v1/collections", headers={"Authorization": f"Bearer {wrong}"}
    )
    assert response.status_code == 401
    assert UNPAID not in response.text
