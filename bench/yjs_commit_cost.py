"""What storing Yjs updates durably costs before they may be broadcast: the group commit's
statement, timed on its own, per number of updates it carries.

An update reaches other clients only once PostgreSQL has committed it (fsync'd), so every
propagation pays at least one commit round trip, and every commit costs CPU in PostgreSQL (the
WAL fsync, mostly in the kernel) and in the data plane (asyncpg). This measures both on an
embedded PostgreSQL in a temporary directory, through the data plane's own ``DocumentStore``
and a provisioned tenant, one commit at a time (as an idle plane commits):

- round trip: ``SELECT 1`` on the same connection, the floor of any exchange with PostgreSQL;
- append of N updates (40-60 bytes, as typing sends) to N documents: wall time per commit
  (p50, p95) and CPU per commit and per update, PostgreSQL's and the client's.

    .venv/bin/python bench/yjs_commit_cost.py [--commits 3000] [--batches 1,2,4,8,16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from webhost.data.tenancy import management
from webhost.data.tenancy.scope import Tenant, tenant_name_for
from webhost.data.yjs.store import DocumentStore, DocumentWrite
from webhost.db import admin
from webhost.db.embedded import EmbeddedPostgres
from webhost.db.engine import create_engine
from webhost.db.urls import PostgresURL


def postgres_cpu(postmaster: psutil.Process) -> float:
    """CPU seconds of the postmaster and every process it started."""
    total = 0.0
    for process in [postmaster, *postmaster.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def provision(url: PostgresURL) -> Tenant:
    tenant_id = uuid.uuid4()
    tenant = Tenant(id=tenant_id, name=tenant_name_for(tenant_id))
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await management.migrate_catalogue(connection)
            await management.ensure_role(connection, tenant.name)
            await management.ensure_tenant_schema(connection, tenant)
        await management.migrate_tenant(engine, tenant)
    finally:
        await engine.dispose()
    return tenant


async def measure(
    url: PostgresURL, postmaster: psutil.Process, commits: int, batches: list[int]
) -> None:
    tenant = await provision(url)
    engine = create_engine(url, pool_size=1)
    store = DocumentStore(engine, url)
    probe = await admin.connect(url)
    print(
        f"{'statement':16} {'p50 ms':>8} {'p95 ms':>8} {'pg cpu/commit':>14} "
        f"{'client cpu/commit':>18} {'cpu/update':>11}"
    )
    try:
        await store.append([DocumentWrite(tenant, "warm-up", [b"x"])])
        cases: list[tuple[str, int]] = [("SELECT 1", 0), *[(f"append {n:>2}", n) for n in batches]]
        for label, size in cases:
            writes = [
                DocumentWrite(tenant, f"room-{index}", [bytes(40 + index % 20)])
                for index in range(size)
            ]
            durations: list[float] = []
            postgres_before, client_before = postgres_cpu(postmaster), time.process_time()
            for _ in range(commits):
                started = time.perf_counter()
                if size:
                    await store.append(writes)
                else:
                    await probe.fetchval("SELECT 1")
                durations.append((time.perf_counter() - started) * 1000)
            postgres_used = (postgres_cpu(postmaster) - postgres_before) / commits * 1e6
            client_used = (time.process_time() - client_before) / commits * 1e6
            per_update = (postgres_used + client_used) / size if size else float("nan")
            print(
                f"{label:16} {statistics.median(durations):8.3f} "
                f"{statistics.quantiles(durations, n=100)[94]:8.3f} {postgres_used:11.0f} us "
                f"{client_used:15.0f} us {per_update:8.0f} us"
            )
    finally:
        await probe.close()
        await store.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--batches", default="1,2,4,8,16")
    arguments = parser.parse_args()
    batches = [int(part) for part in arguments.batches.split(",")]
    with tempfile.TemporaryDirectory(prefix="whcommit-", dir="/tmp") as directory:
        server = EmbeddedPostgres(Path(directory))
        url = server.start()
        try:
            pid_file = server.pgdata / "postmaster.pid"
            postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
            asyncio.run(measure(url, postmaster, arguments.commits, batches))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
