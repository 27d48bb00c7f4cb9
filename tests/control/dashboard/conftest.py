from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.database import create_fresh_database
from tests.support.gates import release
from tests.support.platform import PlatformThread, platform_settings
from webhost.db.urls import PostgresURL


@pytest.fixture(scope="package")
def gated_platform(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    """A platform whose deployments stay provisioning until the test releases them."""
    database = create_fresh_database(postgres_server, "dashboard")
    settings = platform_settings(
        database,
        tmp_path_factory.mktemp("dashboard"),
        provider="tests.support.gates:GatedLocalProvider",
    )
    running = PlatformThread(settings).start()
    yield running
    release(running)
    running.stop()
