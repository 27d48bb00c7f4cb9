from __future__ import annotations

import httpx

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
