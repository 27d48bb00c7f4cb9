from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.data.fleet.positions import FleetDatabase
from tests.support.clients import api_client
from tests.support.database import (
    ProvisionedTenant,
    add_key,
    create_dataplane_database,
    provision_tenant,
)
from tests.support.servers import ServedApp
from webhost.data.tenancy.limits import TenantLimits
from webhost.db.urls import PostgresURL


@pytest.fixture
def client(data_server: ServedApp, tenant: ProvisionedTenant) -> Iterator[httpx.Client]:
    with api_client(data_server.url, tenant.api_key) as client:
        yield client


@pytest.fixture
def device_key(dataplane_database: PostgresURL, tenant: ProvisionedTenant) -> str:
    """A device key (scope ``ingest``) of ``tenant``."""
    key, _prefix = add_key(dataplane_database, tenant.tenant, scope="ingest")
    return key


@pytest.fixture
def limited_tenant(
    dataplane_database: PostgresURL,
) -> Callable[..., ProvisionedTenant]:
    """A tenant whose plan sets these fleet limits."""

    def provision(**limits: int) -> ProvisionedTenant:
        return provision_tenant(dataplane_database, limits=TenantLimits(**limits))

    return provision


@pytest.fixture
def fleet(dataplane_database: PostgresURL) -> Iterator[FleetDatabase]:
    with FleetDatabase(dataplane_database) as database:
        yield database


@pytest.fixture(scope="session")
def partitions_database(postgres_server: PostgresURL) -> PostgresURL:
    """A data-plane database without TimescaleDB, even where the server has it: its tenants
    keep positions in weekly partitions."""
    return create_dataplane_database(postgres_server, timescaledb=False)
