"""Look at what provisioning left on the PostgreSQL server and on this machine."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import psutil

from webhost.db import admin
from webhost.db.urls import PostgresURL


def query(url: PostgresURL, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    async def run() -> list[tuple[Any, ...]]:
        connection = await admin.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()

    return asyncio.run(run())


def roles_named(server: PostgresURL, prefix: str) -> list[str]:
    rows = query(server, "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 || '%'", prefix)
    return sorted(row[0] for row in rows)


def databases_named(server: PostgresURL, name: str) -> int:
    return len(query(server, "SELECT 1 FROM pg_database WHERE datname = $1", name))


def schemas_named(database: PostgresURL, name: str) -> int:
    return len(query(database, "SELECT 1 FROM pg_namespace WHERE nspname = $1", name))


def dataplane_pids() -> dict[int, list[int]]:
    """Running dedicated data-plane processes: port -> process ids (more than one is a bug)."""
    found: dict[int, list[int]] = {}
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "dataplane" in command and "webhost" in " ".join(command) and "--port" in command:
            port = int(command[command.index("--port") + 1])
            found.setdefault(port, []).append(process.pid)
    return found


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes with ``path`` on their command line: PostgreSQL on its data directory,
    ``webhost --data-dir``."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["status"] != psutil.STATUS_ZOMBIE and str(path) in command:
            found.append(process)
    return found


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, and SIGKILL when it does not stop in time: a test's clean-up never leaves it
    running (nor hides the test's own failure behind a timeout)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
