"""``webhost dataplane --embedded``: a plane with nothing but its data directory, provisioned
through its management API, keeps its tenants and their data across a kill -9, and a restore
killed mid-stream leaves nothing of itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.data.tenancy.copies import dump_of, fill, in_transaction
from tests.support.clients import api_client
from tests.support.database import provision_tenant
from tests.support.inspect import processes_using
from tests.support.management import MANAGEMENT_TOKEN, management_client, provision_through_api
from tests.support.polling import wait_until
from tests.support.servers import ServedApp, fixed_port_range
from webhost.data.tenancy import freeze, transfer
from webhost.data.tenancy.scope import tenant_name_for
from webhost.db.urls import PostgresURL


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # a short path: the embedded server's Unix socket lives in it
    path = Path(tempfile.mkdtemp(prefix="whp-", dir="/tmp"))
    yield path
    for process in processes_using(path):  # a postmaster a failed test left behind
        process.kill()
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def embedded_plane(data_dir: Path, port: int, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    """The plane as its container runs it; yields once /health answers. SIGKILLed at the end
    unless the block stopped it."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("WEBHOST_DATAPLANE_", "WEBHOST_DATABASE_URL"))
    }
    environment = inherited | {
        "WEBHOST_DATA_DIR": str(data_dir),
        "WEBHOST_DATAPLANE_MANAGEMENT_TOKEN": MANAGEMENT_TOKEN,
        "WEBHOST_LOG_LEVEL": "error",
        **{f"WEBHOST_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "webhost", "dataplane", "--embedded", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        assert process.poll() is None, f"the plane exited with {process.returncode}"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=120, message="the embedded plane to answer")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()


def test_an_embedded_plane_keeps_its_tenants_and_records_across_a_kill(data_dir: Path) -> None:
    port = fixed_port_range(1)
    url = f"http://127.0.0.1:{port}"
    with embedded_plane(data_dir, port), management_client(url) as manage:
        tenant = provision_through_api(manage)
        with api_client(url, tenant.key.full_key) as client:
            assert client.put("/v1/collections/notes", json={"schema": "id"}).status_code == 201
            written = client.post("/v1/collections/notes/records", json={"id": "kept"})
            assert written.status_code == 201, written.text
        # leaves the block with SIGKILL: no clean shutdown of the plane
    with embedded_plane(data_dir, port) as process, management_client(url) as manage:
        assert manage.get("/_manage/v1/capacity").json() == {"tenants": 1}
        with api_client(url, tenant.key.full_key) as client:
            records = client.get("/v1/collections/notes/records")
            assert records.status_code == 200, records.text
            assert [record["id"] for record in records.json()] == ["kept"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    postmasters = [p for p in processes_using(data_dir / "postgres") if p.name() == "postgres"]
    assert postmasters == [], "a clean stop stops the embedded PostgreSQL"


def test_an_embedded_plane_for_one_tenant_refuses_others(data_dir: Path) -> None:
    port = fixed_port_range(1)
    url = f"http://127.0.0.1:{port}"
    own, other = uuid.uuid4(), uuid.uuid4()
    with (
        embedded_plane(data_dir, port, dataplane_tenant_id=str(own)),
        management_client(url) as manage,
    ):
        assert httpx.get(f"{url}/health").json() == {"status": "ok", "tenant": str(own)}
        mine = manage.put(f"/_manage/v1/tenants/{own}", json={"name": tenant_name_for(own)})
        assert mine.status_code == 200, mine.text
        theirs = manage.put(f"/_manage/v1/tenants/{other}", json={"name": tenant_name_for(other)})
        assert theirs.status_code == 404
        assert manage.get("/_manage/v1/capacity").json() == {"tenants": 1}


def test_a_restore_killed_mid_stream_changes_nothing_and_the_next_one_lands_whole(
    data_dir: Path, data_server: ServedApp, dataplane_database: PostgresURL
) -> None:
    source = provision_tenant(dataplane_database)
    with api_client(data_server.url, source.api_key) as client:
        fill(client)
    in_transaction(dataplane_database, lambda c: freeze.freeze(c, source.tenant))
    try:
        dump = dump_of(dataplane_database, source.tenant)
        expected = in_transaction(dataplane_database, lambda c: transfer.digests(c, source.tenant))
    finally:
        in_transaction(dataplane_database, lambda c: freeze.thaw(c, source.tenant))
    port = fixed_port_range(1)
    url = f"http://127.0.0.1:{port}"
    path = f"/_manage/v1/tenants/{source.tenant.id}"
    halfway, released = threading.Event(), threading.Event()

    def half_then_stall() -> Iterator[bytes]:
        yield dump[: len(dump) // 2]
        halfway.set()
        released.wait(60)  # the plane is killed while it waits for the rest

    with embedded_plane(data_dir, port) as process, management_client(url) as manage:
        made = manage.put(path, json={"name": source.tenant.name, "limits": {}})
        assert made.status_code == 200, made.text
        before = manage.get(f"{path}/digests").json()
        outcome: list[BaseException | httpx.Response] = []

        def send() -> None:
            try:
                outcome.append(manage.put(f"{path}/data", content=half_then_stall()))
            except httpx.HTTPError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        assert halfway.wait(30)
        time.sleep(0.5)  # the first half is in the plane's open transaction
        process.send_signal(signal.SIGKILL)
        process.wait()
        released.set()
        sender.join(30)
        assert len(outcome) == 1
        assert isinstance(outcome[0], httpx.HTTPError)  # never acknowledged
    with embedded_plane(data_dir, port), management_client(url) as manage:
        assert manage.get(f"{path}/digests").json() == before  # nothing of the half landed
        restored = manage.put(f"{path}/data", content=dump)
        assert restored.status_code == 200, restored.text
        after = {
            t["table"]: (t["rows"], t["digest"])
            for t in manage.get(f"{path}/digests").json()["tables"]
        }
        assert after == {name: (d.rows, d.digest) for name, d in expected.items()}
        with api_client(url, source.api_key) as client:
            listed = client.get("/v1/collections/trips/records", params={"limit": 100})
            assert listed.status_code == 200, listed.text
            assert len(listed.json()) == 30
