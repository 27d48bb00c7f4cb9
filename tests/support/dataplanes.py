"""``webhost dataplane`` as a process of its own, as the supervisor runs it: for kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.database import ProvisionedTenant
from tests.support.polling import wait_until
from tests.support.servers import free_port
from webhost.db.urls import PostgresURL


@contextmanager
def dedicated_plane(
    database: PostgresURL, tenant: ProvisionedTenant, *, port: int | None = None, **settings: str
) -> Iterator[int]:
    """Yields the plane's port; ``settings`` become WEBHOST_<NAME> variables. Killed (SIGKILL)
    when the block ends."""
    port = port or free_port()
    environment = os.environ | {
        "WEBHOST_DATAPLANE_DATABASE_URL": database.for_libpq(),
        "WEBHOST_DATAPLANE_TENANT_ID": str(tenant.tenant.id),
        "WEBHOST_LOG_LEVEL": "error",
        **{f"WEBHOST_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "webhost", "dataplane", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=60, message="the data plane to answer")
        yield port
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
