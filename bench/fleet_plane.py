"""What the fleet benchmarks share: a data plane process on a fresh database, with tenants
whose plans set no fleet limits (the benchmarks measure the plane, not the plan's rate).

The database is the embedded PostgreSQL (core spatial path) unless ``--database-url`` names a
server (with PostGIS installed there, tenants take the PostGIS path).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
from profiling import print_profile
from running import free_port

from webhost.data.tenancy import management
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.db import admin
from webhost.db.embedded import EmbeddedPostgres
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL
from webhost.security.api_keys import generate_api_key


@dataclass(frozen=True)
class BenchTenant:
    tenant: Tenant
    api_key: str


@dataclass(frozen=True)
class FleetPlane:
    api_url: str
    database: PostgresURL
    served: BenchTenant  # the tenant the plane process serves
    spare: BenchTenant  # another tenant of the same database, for raw reference writes
    spatial: str
    storage: str  # partitions or hypertable
    pid: int  # the data plane process, for py-spy


class CpuMeter:
    """CPU seconds used while a block runs: the data plane process, this (load generating)
    process, and the whole machine (PostgreSQL and anything else: the rest)."""

    def __init__(self, plane: FleetPlane) -> None:
        self._plane = psutil.Process(plane.pid)
        self._me = psutil.Process()
        self.plane = self.client = self.machine = self.wall = 0.0

    @staticmethod
    def _busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    @staticmethod
    def _used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> CpuMeter:
        self._started = (
            time.perf_counter(),
            self._used(self._plane),
            self._used(self._me),
            self._busy(),
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        wall, plane, client, machine = self._started
        self.wall = time.perf_counter() - wall
        self.plane = self._used(self._plane) - plane
        self.client = self._used(self._me) - client
        self.machine = self._busy() - machine

    def summary(self, units: float, unit: str) -> str:
        """CPU per ``unit`` (microseconds) and how busy the machine was."""
        rest = max(0.0, self.machine - self.plane - self.client)
        per = 1e6 / max(units, 1)
        return (
            f"cpu/{unit}: plane {self.plane * per:.0f} us, load generator "
            f"{self.client * per:.0f} us, rest (PostgreSQL, other) {rest * per:.0f} us; "
            f"machine {self.machine / self.wall / psutil.cpu_count():.0%} busy"
        )


class Profiler:
    """py-spy's raw (collapsed) stacks of the data plane process while a block runs, and the
    functions most often on the stack printed after it; nothing when ``directory`` is None."""

    def __init__(self, plane: FleetPlane, directory: Path | None, name: str) -> None:
        self.output: Path | None = None
        self._recorder: subprocess.Popen[bytes] | None = None
        search = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        py_spy = shutil.which("py-spy", path=search)
        if directory is None:
            return
        if py_spy is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        directory.mkdir(parents=True, exist_ok=True)
        self.output = directory / f"{name}-{plane.spatial}-{int(time.time())}.txt"
        self._command = [
            *(py_spy, "record", "--pid", str(plane.pid), "--rate", "200", "--nonblocking"),
            *("--output", str(self.output), "--format", "raw"),
        ]

    def __enter__(self) -> Profiler:
        if self.output is not None:
            self._recorder = subprocess.Popen(
                self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(0.5)  # attached before the load starts
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._recorder is None or self.output is None:
            return
        if self._recorder.poll() is None:
            self._recorder.send_signal(signal.SIGINT)
        self._recorder.wait(60)
        print_profile(self.output)


@contextmanager
def postgres(database_url: str | None) -> Iterator[PostgresURL]:
    if database_url:
        yield PostgresURL.parse(database_url)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="whbench-pg-", dir="/tmp"))
    embedded = EmbeddedPostgres(data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _provision(database: PostgresURL) -> tuple[BenchTenant, BenchTenant, str, str]:
    engine = create_engine(database, pool_size=1)
    made = []
    try:
        async with engine.begin() as connection:
            await management.migrate_catalogue(connection)
        for _ in range(2):
            tenant_id = uuid.uuid4()
            tenant = Tenant(id=tenant_id, name=tenant_name_for(tenant_id))
            key = generate_api_key()
            async with engine.begin() as connection:
                await management.ensure_role(connection, tenant.name)
                await management.ensure_tenant_schema(connection, tenant)
            await management.migrate_tenant(engine, tenant)
            async with engine.begin() as connection:
                await management.register_tenant(connection, tenant)
                await management.publish_key(connection, tenant.id, key.prefix, key.secret_digest)
            made.append(BenchTenant(tenant, key.full_key))
    finally:
        await engine.dispose()
    connection = await admin.connect(database)
    try:
        spatial, storage = await connection.fetchrow(
            f'SELECT spatial, storage FROM "{made[0].tenant.name}"._fleet_settings'
        )
    finally:
        await connection.close()
    return made[0], made[1], str(spatial), str(storage)


async def _drop(server: PostgresURL, name: str, roles: list[str]) -> None:
    connection = await admin.connect(server.with_database("postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            try:
                await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
            except asyncpg.PostgresError:
                continue  # owns objects in another database
    finally:
        await connection.close()


@contextmanager
def fleet_plane(database_url: str | None) -> Iterator[FleetPlane]:
    with postgres(database_url) as server:
        name = f"whbench_fleet_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin.ensure_database(server, name))
        database = server.with_database(name)
        roles: list[str] = []
        try:
            served, spare, spatial, storage = asyncio.run(_provision(database))
            roles = [served.tenant.name, spare.tenant.name]
            port = free_port()
            log = Path(tempfile.mkstemp(prefix="whbench-plane-", suffix=".log")[1])
            environment = {
                **os.environ,
                "WEBHOST_DATAPLANE_DATABASE_URL": database.for_libpq(),
                "WEBHOST_DATAPLANE_TENANT_ID": str(served.tenant.id),
                "WEBHOST_LOG_LEVEL": "warning",
            }
            with log.open("w") as output:
                process = subprocess.Popen(
                    [sys.executable, "-m", "webhost", "dataplane", "--port", str(port)],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=environment,
                )
            api_url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while True:
                    if process.poll() is not None:
                        raise SystemExit(log.read_text())
                    try:
                        if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit("the data plane did not start:\n" + log.read_text())
                    time.sleep(0.2)
                yield FleetPlane(api_url, database, served, spare, spatial, storage, process.pid)
            finally:
                process.send_signal(signal.SIGINT)
                process.wait(60)
                log.unlink(missing_ok=True)
        finally:
            asyncio.run(_drop(server, name, roles))
