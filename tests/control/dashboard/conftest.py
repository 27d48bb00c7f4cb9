from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gates import release
from tests.support.platform import PlatformThread, start_platform
from webhost.db.urls import PostgresURL


@pytest.fixture(scope="package")
def gated_platform(
    postgres_server: PostgresURL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformThread]:
    """A platform whose deployments stay provisioning until the test releases them."""
    running = start_platform(
        postgres_server,
        tmp_path_factory.mktemp("dashboard"),
        "dashboard",
        provider="tests.support.gates:GatedLocalProvider",
    )
    yield running
    release(running)
    running.stop()
