"""What Fly.io would run on a deployment's primary machine, for tests: once the fake shows the
machine started, a real ``webhost dataplane`` process with the machine's environment and the
app's secrets, on the port ``WEBHOST_FLY_PLANE_URL`` names (a fake has no ``<app>.fly.dev``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.database import create_fresh_database
from tests.support.fakes.flyio import FakeFly
from webhost.data.tenancy import management
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL

REPOSITORY = Path(__file__).resolve().parents[4]


class FlyRuntime:
    """Serves the primary machine of whichever app first starts one; one plane per runtime."""

    def __init__(self, fake: FakeFly, server: PostgresURL, port: int) -> None:
        self.fake = fake
        self.server = server
        self.port = port
        self.plane_url = f"http://127.0.0.1:{port}"
        self.launched: dict[str, str] = {}  # app -> machine id it runs
        self.process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> FlyRuntime:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._kill()

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            with self.fake.lock:
                found = [
                    (app.name, machine.id, dict(machine.config.get("env") or {}), dict(app.secrets))
                    for app in self.fake.apps.values()
                    for machine in app.live_machines()
                    if (machine.config.get("metadata") or {}).get("webhost_role") == "primary"
                    and machine.state(self.fake.start_delay) == "started"
                ]
            for app, machine_id, env, secrets in found:
                if self.launched.get(app) != machine_id and not self.launched:
                    self.launched[app] = machine_id
                    self._launch(env | secrets)

    def _launch(self, environment: dict[str, str]) -> None:
        # the machine's volume: a database of its own on the test server
        database = create_fresh_database(self.server, "flyplane")
        asyncio.run(_prepare(database))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhost", "dataplane", "--port", str(self.port)],
            env=os.environ
            | {
                key: value
                for key, value in environment.items()
                if key not in ("WEBHOST_DATA_DIR",)  # /data: the volume, which is the database
            }
            | {
                "WEBHOST_DATAPLANE_DATABASE_URL": database.for_libpq(),
                "WEBHOST_LOG_LEVEL": "error",
                "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY)]),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


async def _prepare(database: PostgresURL) -> None:
    engine = create_engine(database, pool_size=1)
    try:
        async with engine.begin() as connection:
            await management.migrate_catalogue(connection)
    finally:
        await engine.dispose()
