from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.data.conftest import start_plane  # noqa: F401 - planes of a test's own
from tests.support.database import ProvisionedTenant
from tests.support.servers import ServedApp, free_port
from webhost.client import WebHostClient

Connect = Callable[..., WebHostClient]


@pytest.fixture
def connect(data_server: ServedApp, tenant: ProvisionedTenant) -> Connect:
    """Clients of the test's tenant on the shared data plane; enter them with ``async with``."""

    def make(**options: Any) -> WebHostClient:
        options.setdefault("api_url", data_server.url)
        options.setdefault("sync_url", data_server.ws_url)
        options.setdefault("api_key", tenant.api_key)
        return WebHostClient(**options)

    return make


@pytest.fixture
def unreachable_url() -> str:
    """A local address where nothing listens: a server that is down, a device offline."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def replica_file(tmp_path: Path) -> Path:
    return tmp_path / "replica.sqlite3"
