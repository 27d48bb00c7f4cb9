"""The embedded PostgreSQL of a data directory, run by the real `webhost` commands: it runs
while any of them uses it, the last one stops it for good, and a start recovers whatever a
kill -9 left behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from tests.support.factories import PASSWORD, sign_up
from tests.support.inspect import processes_using, query
from tests.support.platform import UpProcess
from tests.support.polling import wait_until
from tests.support.servers import free_port
from webhost.db.embedded import MAX_CONNECTIONS, EmbeddedPostgres
from webhost.db.urls import PostgresURL


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # a short path: the server's Unix socket lives in the data directory
    root = Path(tempfile.mkdtemp(prefix="whpg-", dir="/tmp"))
    yield root / "data"
    for process in processes_using(root):  # up, worker or PostgreSQL left by a failed test
        with contextlib.suppress(psutil.Error):
            process.kill()
    shutil.rmtree(root, ignore_errors=True)


def webhost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhost", *args],
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def log_in(control_url: str, email: str) -> int:
    body = {"email": email, "password": PASSWORD}
    return httpx.post(f"{control_url}/api/login", json=body, timeout=30).status_code


def pids(processes: list[psutil.Process]) -> set[int]:
    return {process.pid for process in processes}


@pytest.mark.slow
def test_a_server_left_by_kill_minus_nine_is_reused_and_stopped_by_the_next_ctrl_c(
    data_dir: Path,
) -> None:
    pgdata = data_dir / "postgres"
    port, data_port = free_port(), free_port()
    first = UpProcess(data_dir, port, data_port)
    first.start()
    customer = sign_up(first.control_url)
    customer.client.close()
    first.kill()
    assert first.process is not None
    orphan = pids(processes_using(pgdata))
    assert orphan, "the postmaster has a session of its own: it outlives a killed up"
    # pgserver's handle file names the killed process; add a live process that is no user
    (pgdata / ".handle_pids.json").write_text(json.dumps([first.process.pid, os.getpid()]))

    second = UpProcess(data_dir, port, data_port)
    second.start()
    assert log_in(second.control_url, customer.email) == 200
    assert second.interrupt() == 0, second.text
    assert "stopped cleanly" in second.text
    assert processes_using(pgdata) == []


@pytest.mark.slow
def test_a_crashed_server_whose_pid_was_reused_does_not_block_the_next_start(
    data_dir: Path,
) -> None:
    pgdata = data_dir / "postgres"
    port, data_port = free_port(), free_port()
    first = UpProcess(data_dir, port, data_port)
    first.start()
    customer = sign_up(first.control_url)
    customer.client.close()
    first.kill()
    # the postmaster dies too (a crash, a reboot), and another program gets its pid
    postmasters = processes_using(pgdata)
    server = [*postmasters, *(child for p in postmasters for child in p.children())]
    for process in postmasters:
        process.kill()
    psutil.wait_procs(server, timeout=30)
    pid_file = pgdata / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")

    second = UpProcess(data_dir, port, data_port)
    second.start()
    assert log_in(second.control_url, customer.email) == 200
    assert second.interrupt() == 0, second.text
    assert "stopped cleanly" in second.text
    assert processes_using(pgdata) == []


@pytest.mark.slow
def test_commands_share_the_server_and_the_last_one_stops_it(data_dir: Path) -> None:
    pgdata = data_dir / "postgres"
    # alone, a command starts the server and stops it when it ends
    alone = webhost("plans", "--data-dir", str(data_dir))
    assert alone.returncode == 0, alone.stderr
    assert "hobby" in alone.stdout
    assert processes_using(pgdata) == []

    up = UpProcess(data_dir, free_port(), free_port())
    up.start()
    server = pids(processes_using(pgdata))
    for command in ("plans", "migrate", "operator-login"):
        result = webhost(command, "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stderr
    assert pids(processes_using(pgdata)) == server
    assert httpx.get(f"{up.control_url}/api/plans", timeout=30).status_code == 200

    # up stops first while a worker still uses the server: it keeps running for the worker
    worker_log = data_dir.parent / "worker.log"
    with worker_log.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "webhost", "worker", "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            start_new_session=True,
        )
    try:
        control = PostgresURL.parse(f"postgresql://postgres@/webhost?host={pgdata}")
        wait_until(
            lambda: query(control, "SELECT count(*) FROM procrastinate_workers")[0][0] == 2,
            timeout=60,
            message="the worker to join",
        )
        assert up.interrupt() == 0, up.text
        assert (
            "stopped cleanly; the embedded PostgreSQL keeps running for the other webhost "
            f"processes using it (pid {worker.pid})"
        ) in up.text
        assert pids(processes_using(pgdata)) == server

        worker.send_signal(signal.SIGINT)
        assert worker.wait(60) == 0, worker_log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "stopped cleanly" in worker_log.read_text()
    assert processes_using(pgdata) == []


def test_a_new_server_takes_more_connections_than_postgresqls_default(data_dir: Path) -> None:
    """Each dedicated plane of the local provider holds its own pool on this server."""
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()

    async def connect_many(count: int) -> list[int]:
        connections = [await asyncpg.connect(url.for_libpq()) for _ in range(count)]
        try:
            return [await connection.fetchval("SELECT 1") for connection in connections]
        finally:
            for connection in connections:
                await connection.close()

    try:
        assert asyncio.run(connect_many(150)) == [1] * 150
        assert query(url, "SHOW max_connections") == [(str(MAX_CONNECTIONS),)]
    finally:
        embedded.stop()
    again = EmbeddedPostgres(data_dir)  # the setting stays: no second restart
    try:
        assert query(again.start(), "SHOW max_connections") == [(str(MAX_CONNECTIONS),)]
    finally:
        again.stop()
