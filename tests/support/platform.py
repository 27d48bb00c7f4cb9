"""The whole platform (control plane, shared data plane, worker, supervisor) in a thread.

It runs exactly what ``webhost up`` runs, against a fresh control database on the test
server, on ports the OS picks; tests drive it over HTTP like any customer would.
``UpProcess`` runs the real ``webhost up`` command instead, as a user starts it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.database import create_fresh_database
from tests.support.polling import wait_until
from tests.support.servers import fixed_port_range, free_port
from webhost.config import Settings
from webhost.control.deployments import repository as deployments_repository
from webhost.control.provisioning import deprovision
from webhost.db.urls import PostgresURL
from webhost.runtime import Components, Runtime


def platform_settings(database: PostgresURL, data_dir: Path, **overrides: Any) -> Settings:
    first_port = fixed_port_range(100)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database.for_libpq(),
        "port": 0,
        "data_port": 0,
        "edge_port": 0,
        "dedicated_ports": f"{first_port}-{first_port + 99}",
        "worker_heartbeat_seconds": 0.5,
        "stalled_job_seconds": 3.0,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(**values)


def start_platform(
    server: PostgresURL,
    data_dir: Path,
    label: str,
    *,
    components: Components | None = None,
    **overrides: Any,
) -> PlatformThread:
    """A running platform on a fresh control database of its own."""
    database = create_fresh_database(server, label)
    return PlatformThread(platform_settings(database, data_dir, **overrides), components).start()


class PlatformThread:
    def __init__(self, settings: Settings, components: Components | None = None) -> None:
        self.settings = settings
        self.components = components
        self.runtime: Runtime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def control_url(self) -> str:
        assert self.runtime is not None
        return self.runtime.settings.control_url

    @property
    def control_database(self) -> PostgresURL:
        assert self.runtime is not None
        assert self.runtime.platform is not None
        return self.runtime.platform.control_database

    @property
    def data_url(self) -> str:
        assert self.runtime is not None
        return self.runtime.settings.shared_plane_url

    @property
    def edge_url(self) -> str:
        assert self.runtime is not None
        return self.runtime.settings.edge_url

    def deployment_url(self, deployment_id: str) -> str:
        """The deployment's stable API URL on the edge (``/d/`` and its tenant's hex digits)."""
        return f"{self.edge_url}/d/{deployment_id.replace('-', '')[:16]}"

    def start(self, timeout: float = 120) -> PlatformThread:
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("platform did not start")
        if self._error is not None:
            raise RuntimeError("platform failed to start") from self._error
        return self

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.runtime = Runtime(self.settings, self.components)
        try:
            await self.runtime.start()
            self._ready.set()
            await self.runtime.wait()
        finally:
            await self.runtime.stop()

    def call(self, coroutine_factory: Callable[[], Any], timeout: float = 60) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine_factory(), self._loop).result(timeout)

    def stop(self, timeout: float = 60) -> None:
        if self.runtime is not None and self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self.runtime.request_stop)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("platform did not stop")


class UpProcess:
    """`webhost up` on the embedded PostgreSQL of ``data_dir`` (or ``DATABASE_URL`` given in
    ``environment``), in a session of its own (so a test can kill its whole process group), its
    output in a log file beside the data dir."""

    _runs = itertools.count()

    def __init__(
        self,
        data_dir: Path,
        port: int,
        data_port: int,
        first_dedicated: int = 0,
        environment: dict[str, str] | None = None,
        edge_port: int = 0,
    ) -> None:
        """``environment`` adds variables (e.g. ``DATABASE_URL`` for a server of the test's);
        the edge keeps its port across restarts, as deployments' URLs name it."""
        self.data_dir = data_dir
        self.environment = environment or {}
        self.port = port
        self.data_port = data_port
        self.edge_port = edge_port or free_port()
        self.dedicated_ports = first_dedicated or fixed_port_range(10)
        self.output = data_dir.parent / f"up-{port}-{next(self._runs)}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def text(self) -> str:
        return self.output.read_text() if self.output.exists() else ""

    def start(self, timeout: float = 120) -> str:
        """Start it and wait for the banner; returns the output so far."""
        with self.output.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "webhost",
                    "up",
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    str(self.port),
                    "--data-port",
                    str(self.data_port),
                    "--edge-port",
                    str(self.edge_port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
                | {
                    "WEBHOST_DEDICATED_PORTS": f"{self.dedicated_ports}-{self.dedicated_ports + 9}",
                    "COLUMNS": "200",
                }
                | self.environment,
                start_new_session=True,
            )
        process = self.process
        wait_until(
            lambda: "Press Ctrl-C" in self.text or process.poll() is not None,
            timeout=timeout,
            message="webhost up to start",
        )
        assert process.poll() is None, self.text
        return self.text

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user stops it; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """kill -9 of its process group, as a crash or an impatient process manager does."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def wait_for_deployment(
    client: httpx.Client, deployment_id: str, *, status: str = "active", timeout: float = 90
) -> dict[str, Any]:
    def current() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/api/deployments/{deployment_id}").json()
        return body if body["status"] == status else None

    result: dict[str, Any] = wait_until(
        current, timeout=timeout, interval=0.2, message=f"deployment {status}"
    )
    return result


def queue_deletion(platform: PlatformThread, deployment_id: str) -> None:
    """Delete a deployment as the billing sweep does once a cancelled subscription's
    retention window ends: a deprovisioning run, queued."""

    async def queue() -> None:
        assert platform.runtime is not None
        assert platform.runtime.platform is not None
        async with platform.runtime.platform.sessions.begin() as session:
            deployment = await deployments_repository.lock(session, uuid.UUID(deployment_id))
            assert deployment is not None
            await deprovision.queue_deprovisioning(session, deployment)

    platform.call(queue)
