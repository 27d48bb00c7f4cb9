"""Generated requests (schemathesis, from each plane's own OpenAPI) never get a 5xx."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.support.database import ProvisionedTenant, provision_tenant
from tests.support.factories import sign_up
from tests.support.platform import PlatformThread
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL

FUZZ_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@pytest.fixture(scope="module")
def fuzz_tenant(dataplane_database: PostgresURL, data_server: ServedApp) -> ProvisionedTenant:
    tenant = provision_tenant(dataplane_database)
    httpx.put(
        f"{data_server.url}/v1/collections/posts",
        json={"schema": "++id, title, &slug, *tags, [authorId+updatedAt]"},
        headers={"Authorization": f"Bearer {tenant.api_key}"},
    ).raise_for_status()
    return tenant


def fuzz(schema: schemathesis.schemas.BaseSchema, headers: dict[str, str], skip: set[str]) -> None:
    """Run generated cases against every operation; a 5xx anywhere fails the test."""
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in skip:
            continue

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()


def test_the_data_plane_never_fails_on_generated_requests(
    data_server: ServedApp, fuzz_tenant: ProvisionedTenant
) -> None:
    fuzz(
        schemathesis.openapi.from_url(f"{data_server.url}/openapi.json"),
        {"Authorization": f"Bearer {fuzz_tenant.api_key}"},
        skip=set(),
    )


def test_the_control_plane_never_fails_on_generated_requests(platform: PlatformThread) -> None:
    customer = sign_up(platform.control_url)
    customer.client.close()
    fuzz(
        schemathesis.openapi.from_url(f"{platform.control_url}/openapi.json"),
        {"Authorization": f"Bearer {customer.token}"},
        skip={"/api/logout"},  # would end the session the other cases use
    )
