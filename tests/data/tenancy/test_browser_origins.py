"""Browser apps on their own origins may call the data plane with an API key (CORS)."""

from __future__ import annotations

import httpx

from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp

ORIGIN = "https://app.example.com"


def test_a_preflight_from_any_origin_is_allowed_without_credentials(data_server: ServedApp) -> None:
    response = httpx.options(
        f"{data_server.url}/v1/collections",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


def test_answers_and_errors_carry_the_origin_header(
    data_server: ServedApp, tenant: ProvisionedTenant
) -> None:
    ok = httpx.get(
        f"{data_server.url}/v1/collections",
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {tenant.api_key}"},
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "*"
    refused = httpx.get(f"{data_server.url}/v1/collections", headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"
