from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.database import (
    ProvisionedTenant,
    create_dataplane_database,
    drop_run_databases,
    provision_tenant,
)
from tests.support.factories import Customer, sign_up
from tests.support.logins import FAST_LOGIN_THROTTLE
from tests.support.platform import PlatformThread, start_platform
from tests.support.servers import ServedApp
from webhost.data.app import create_data_app
from webhost.data.plane import DataPlane
from webhost.db.embedded import EmbeddedPostgres
from webhost.db.urls import PostgresURL
from webhost.log_config import configure_logging

# the platform under test logs like production; warnings and errors still show up in reports
configure_logging(level="warning")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresURL]:
    """A real PostgreSQL: WEBHOST_TEST_DATABASE_URL when set, else the embedded one."""
    external = os.environ.get("WEBHOST_TEST_DATABASE_URL")
    if external:
        server = PostgresURL.parse(external)
        yield server
        drop_run_databases(server)
        return
    # a short path: the server's Unix socket lives in this directory
    data_dir = Path(tempfile.mkdtemp(prefix="wht-", dir="/tmp"))
    embedded = EmbeddedPostgres(data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def dataplane_database(postgres_server: PostgresURL) -> PostgresURL:
    return create_dataplane_database(postgres_server)


@pytest.fixture(scope="session")
def data_server(dataplane_database: PostgresURL) -> Iterator[ServedApp]:
    """A shared data plane served over TCP, for HTTP and WebSocket clients alike."""

    async def build() -> object:
        return create_data_app(DataPlane(dataplane_database, max_body_bytes=65_536))

    served = ServedApp(build).start()  # type: ignore[arg-type]
    yield served
    served.stop()


@pytest.fixture
def tenant(dataplane_database: PostgresURL) -> ProvisionedTenant:
    return provision_tenant(dataplane_database)


@pytest.fixture
def other_tenant(dataplane_database: PostgresURL) -> ProvisionedTenant:
    return provision_tenant(dataplane_database)


@pytest.fixture(scope="session")
def platform(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    """The platform as `webhost up` runs it, shared by the tests of a session."""
    running = start_platform(
        postgres_server, tmp_path_factory.mktemp("platform"), "control", **FAST_LOGIN_THROTTLE
    )
    yield running
    running.stop()


@pytest.fixture
def signup(platform: PlatformThread) -> Iterator[Callable[..., Customer]]:
    """Sign customers up on the session platform; their API clients close after the test."""
    customers: list[Customer] = []

    def create(plan: str = "hobby", **fields: object) -> Customer:
        customer = sign_up(platform.control_url, plan=plan, **fields)
        customers.append(customer)
        return customer

    yield create
    for customer in customers:
        customer.client.close()
