from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.data.fleet.positions import FleetDatabase
from tests.support.clients import api_client
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp
from webhost.db.urls import PostgresURL


@pytest.fixture
def client(data_server: ServedApp, tenant: ProvisionedTenant) -> Iterator[httpx.Client]:
    with api_client(data_server.url, tenant.api_key) as client:
        yield client


@pytest.fixture
def fleet(dataplane_database: PostgresURL) -> Iterator[FleetDatabase]:
    with FleetDatabase(dataplane_database) as database:
        yield database
